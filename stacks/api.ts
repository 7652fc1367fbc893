import { apiAccess } from "./access.ts";
import { bundledFunction, dataLinks, handlerPermissions } from "./functions.ts";
import { isDevStage, LOCAL_DASHBOARD_URL } from "./config.ts";
import { dashboardUrl } from "./router.ts";
import { issuer, webClient } from "./auth.ts";
import { cluster, worker } from "./encoder.ts";

/**
 * The hono app behind API Gateway HTTP API: one Lambda takes every route, the same app
 * that serves locally. API Gateway refuses requests without a valid Cognito token (JWT
 * authorizer) except on `GET /health`; the app reads the owner from the verified claims.
 *
 * CORS: only the dashboard's origin (and, in dev stages, `videoforge up`'s); `ETag` is
 * exposed and `If-None-Match` allowed, so the dashboard's polling gets its 304s.
 */
export const api = new sst.aws.ApiGatewayV2("Api", {
  cors: {
    allowOrigins: $resolve([dashboardUrl]).apply(([url]) => (isDevStage ? [url, LOCAL_DASHBOARD_URL] : [url])),
    allowMethods: ["GET", "POST", "PATCH", "DELETE"],
    allowHeaders: ["authorization", "content-type", "if-none-match"],
    exposeHeaders: ["etag"],
    maxAge: "1 hour",
  },
});

const cognito = api.addAuthorizer({ name: "Cognito", jwt: { issuer, audiences: [webClient.id] } });

/**
 * One function, routed twice: the routes share it instead of each creating a copy. Cancelling
 * a job stops its running tasks: the Worker link names the cluster and grants DescribeTasks /
 * StopTask on its tasks; ListTasks is granted on the cluster only.
 */
export const apiFunction = bundledFunction("ApiHandler", "api", {
  link: [...dataLinks, worker],
  permissions: [
    ...handlerPermissions(apiAccess),
    {
      actions: ["ecs:ListTasks"],
      resources: ["*"],
      conditions: [{ test: "ArnEquals", variable: "ecs:cluster", values: [cluster.nodes.cluster.arn] }],
    },
  ],
});

api.route("$default", apiFunction.arn, { auth: { jwt: { authorizer: cognito.id } } });
// load balancers and uptime checks call this without a token; it reveals nothing
api.route("GET /health", apiFunction.arn);
// share links: the link is the credential (the app checks its token); whoever holds one has no Cognito account
api.route("GET /shared/{proxy+}", apiFunction.arn);
