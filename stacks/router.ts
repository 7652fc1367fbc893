/**
 * The dashboard's address, created before the API and the site: the API's CORS origins and
 * the user pool's callback URLs name it, and the site (stacks/web.ts) is served through it,
 * so neither has to wait for the other.
 */
export const router = new sst.aws.Router("Dashboard");
export const dashboardUrl = router.url;
