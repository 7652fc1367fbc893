import { CLI_CALLBACK_URL, isDevStage, isProd, LOCAL_DASHBOARD_URL, openSignUp } from "./config.ts";
import { dashboardUrl } from "./router.ts";

/**
 * Who may call the API on AWS: a Cognito user pool whose tokens API Gateway checks (a JWT
 * authorizer) before the Lambda runs. The app then takes the token's `sub` as the owner
 * of every job and upload, with the same ownership checks as locally.
 *
 * - Sign-up is admin-only unless the deploy sets VIDEOFORGE_OPEN_SIGNUP=true (stacks/config.ts):
 *   the first user is created with `videoforge users add EMAIL --aws` (AdminCreateUser).
 * - The hosted UI on a Cognito prefix domain signs users in with the authorization-code flow
 *   and PKCE (a public client: no secret), redirecting back to the dashboard.
 * - In prod the pool survives `sst remove` and being dropped from the config: every job's
 *   owner is a `sub` of this pool, and a new pool would orphan them all.
 */
export const users = new sst.aws.CognitoUserPool(
  "Users",
  {
    usernames: ["email"],
    // account ids are unique and prefixes may not contain "aws", "amazon" or "cognito"
    domain: { prefix: $interpolate`${$app.name}-${$app.stage}-${aws.getCallerIdentityOutput().accountId}` },
    transform: {
      userPool: (args) => {
        args.adminCreateUserConfig = { allowAdminCreateUserOnly: !openSignUp };
        return undefined;
      },
    },
  },
  { retainOnDelete: isProd },
);

/** Where the hosted UI may send a signed-in user back to (and after sign-out). */
export const callbackUrls = $resolve([dashboardUrl]).apply(([url]) => {
  // the dashboard sends its own root (`origin + "/"`); `videoforge login` its loopback listener
  const urls = [url, `${url}/`, CLI_CALLBACK_URL];
  // `videoforge up` serving the dashboard against a dev stage
  if (isDevStage) urls.push(LOCAL_DASHBOARD_URL, `${LOCAL_DASHBOARD_URL}/`);
  return urls;
});

export const webClient = users.addClient("Web", {
  callbackUrls,
  transform: {
    client: (args) => {
      // PKCE code flow only: no implicit tokens in URLs, no client secret in a browser
      args.allowedOauthFlows = ["code"];
      args.allowedOauthScopes = ["openid", "email", "profile"];
      args.generateSecret = false;
      args.logoutUrls = callbackUrls;
      args.explicitAuthFlows = ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"];
      args.preventUserExistenceErrors = "ENABLED";
      return undefined;
    },
  },
});

export const issuer = $interpolate`https://cognito-idp.${aws.getRegionOutput().region}.amazonaws.com/${users.id}`;
/** The hosted UI's base URL (`/oauth2/authorize`, `/oauth2/token`, `/logout`). */
export const authDomain = users.domainUrl!; // set: the pool has a prefix domain
