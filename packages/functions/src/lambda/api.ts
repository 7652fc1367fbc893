import { handle } from "hono/aws-lambda";
import { createApi } from "../api/app.ts";
import { lambdaDeps } from "./runtime.ts";
import { ownerFromJwtClaims } from "./identity.ts";

/** API Gateway HTTP API ($default route, behind the Cognito JWT authorizer) → the same hono app that serves locally. */
export const handler = handle(createApi(lambdaDeps(), { identify: ownerFromJwtClaims }));
