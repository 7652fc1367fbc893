import { api } from "./api.ts";
import { authDomain, issuer, webClient } from "./auth.ts";
import { router } from "./router.ts";

/**
 * The SolidJS dashboard: Vite builds web/ to web/dist, served from S3 through the Dashboard
 * router's CloudFront distribution. It signs in through the user pool's hosted UI (PKCE).
 */
export const web = new sst.aws.StaticSite("Web", {
  path: "web",
  build: { command: "npm run build", output: "dist" },
  router: { instance: router },
  environment: {
    VITE_API_URL: api.url,
    VITE_COGNITO_DOMAIN: authDomain,
    VITE_COGNITO_CLIENT_ID: webClient.id,
    VITE_COGNITO_ISSUER: issuer,
  },
});
