/** The API on Node: the hono app behind token auth, the operator routes and the built dashboard. */
export * from "./server.ts";
export * from "./auth.ts";
export * from "./web-assets.ts";
export * from "./admin-routes.ts";
