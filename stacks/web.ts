import { api } from "./api.ts";

/** The SolidJS dashboard: Vite builds web/ to web/dist, served from S3 through CloudFront. */
export const web = new sst.aws.StaticSite("Web", {
  path: "web",
  build: { command: "npm run build", output: "dist" },
  environment: { VITE_API_URL: api.url },
});
