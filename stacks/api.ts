import { apiAccess } from "./access.ts";
import { dataLinks, handlerPermissions, logging } from "./functions.ts";
import { issuer, webClient } from "./auth.ts";

/**
 * The hono app behind API Gateway HTTP API: one Lambda takes every route ($default), the
 * same app that serves locally. API Gateway refuses requests without a valid Cognito token
 * (JWT authorizer); the app reads the owner from the verified claims.
 */
export const api = new sst.aws.ApiGatewayV2("Api", {
  cors: { allowOrigins: ["*"], allowMethods: ["GET", "POST", "DELETE"], allowHeaders: ["authorization", "content-type"] },
});

const cognito = api.addAuthorizer({ name: "Cognito", jwt: { issuer, audiences: [webClient.id] } });
const apiFunction = {
  handler: "packages/functions/src/lambda/api.handler",
  runtime: "nodejs20.x",
  timeout: "30 seconds",
  memory: "512 MB",
  logging,
  link: dataLinks,
  permissions: handlerPermissions(apiAccess),
} satisfies sst.aws.FunctionArgs;
api.route("$default", apiFunction, { auth: { jwt: { authorizer: cognito.id } } });
// load balancers and uptime checks call this without a token; it reveals nothing
api.route("GET /health", apiFunction);
