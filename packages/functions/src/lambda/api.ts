import { handle } from "hono/aws-lambda";
import { createApi } from "../api/app.ts";
import { apiDeps } from "./runtime.ts";
import { ownerFromJwtClaims } from "./identity.ts";

/**
 * API Gateway HTTP API ($default route, behind the Cognito JWT authorizer) → the same hono app
 * that serves locally; its deps stop a cancelled job's running Fargate tasks (`deps.tasks`).
 */
export const handler = handle(createApi(apiDeps(), { identify: ownerFromJwtClaims }));
