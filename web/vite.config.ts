import { defineConfig } from "vite";
import solid from "vite-plugin-solid";

/**
 * The dashboard. `VITE_API_URL` (read in src/api.ts) points a static deployment at its
 * API; without it the page talks to the origin that served it (`npm start`).
 * `VITE_COGNITO_DOMAIN` and `VITE_COGNITO_CLIENT_ID` (src/auth/cognito.ts) switch sign-in
 * to the Cognito hosted UI with PKCE; without them the page uses the local API token.
 */
export default defineConfig({
  plugins: [solid()],
  base: "/",
  build: { target: "es2022", outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 1024 },
});
