import {
  authorizeUrl,
  challengeOf,
  codeExchange,
  createState,
  createVerifier,
  jwtClaims,
  logoutUrl,
  refreshExchange,
  requestTokens,
  type OAuthClient,
  type Tokens,
} from "@videoforge/core/auth";

/**
 * Sign-in on AWS: the Cognito hosted UI with the authorization code flow and PKCE. The
 * stacks pass `VITE_COGNITO_DOMAIN` and `VITE_COGNITO_CLIENT_ID` to the build; without
 * them (locally) this module is inert and the page uses the API token instead.
 *
 * Tokens live in sessionStorage: they end with the tab, and are not shared with other
 * tabs the way localStorage would share them. The callback address is the dashboard's
 * own root, which the app client must list as a callback and sign-out URL.
 */

const env = import.meta.env as Record<string, string | undefined>;

/** The Cognito app client, or null when this build has no Cognito configuration. */
export const cognito: OAuthClient | null =
  env.VITE_COGNITO_DOMAIN && env.VITE_COGNITO_CLIENT_ID
    ? {
        domain: env.VITE_COGNITO_DOMAIN,
        clientId: env.VITE_COGNITO_CLIENT_ID,
        redirectUri: `${window.location.origin}/`,
      }
    : null;

const TOKENS = "videoforge.auth.tokens";
/** The verifier and state of a sign-in in progress, and where to return to after it. */
const PENDING = "videoforge.auth.pending";

interface Pending {
  verifier: string;
  state: string;
  returnTo: string;
}

export function storedTokens(): Tokens | null {
  try {
    const raw = sessionStorage.getItem(TOKENS);
    return raw ? (JSON.parse(raw) as Tokens) : null;
  } catch {
    return null;
  }
}

const keep = (tokens: Tokens) => sessionStorage.setItem(TOKENS, JSON.stringify(tokens));

/** Go to the hosted UI; the browser comes back to `/` with `?code=&state=`. */
export async function signIn(returnTo = window.location.pathname + window.location.search) {
  if (!cognito) throw new Error("this dashboard has no Cognito configuration");
  const pending: Pending = { verifier: createVerifier(), state: createState(), returnTo };
  sessionStorage.setItem(PENDING, JSON.stringify(pending));
  window.location.assign(
    authorizeUrl(cognito, { challenge: await challengeOf(pending.verifier), state: pending.state }),
  );
}

/**
 * On load: when the address is the hosted UI's callback (`?code=&state=`, or `?error=`),
 * exchange the code for tokens with the stored verifier, clean the address and return
 * where the sign-in started. Returns the tokens held afterwards, or an error to show.
 */
export async function completeSignIn(): Promise<{ tokens: Tokens | null; error?: string }> {
  if (!cognito) return { tokens: null };
  const url = new URL(window.location.href);
  const code = url.searchParams.get("code");
  const error = url.searchParams.get("error");
  if (!code && !error) return { tokens: storedTokens() };
  const pending = readPending();
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, "", pending?.returnTo ?? "/");
  if (error) return { tokens: null, error: `Sign-in failed: ${url.searchParams.get("error_description") ?? error}` };
  // a callback this tab did not start (or a replayed address) is refused: state must match
  if (!pending || url.searchParams.get("state") !== pending.state)
    return {
      tokens: null,
      error: "Sign-in failed: the answer does not belong to a sign-in started here. Sign in again.",
    };
  try {
    const tokens = await requestTokens(codeExchange(cognito, code!, pending.verifier));
    keep(tokens);
    return { tokens };
  } catch (err) {
    return { tokens: null, error: `Sign-in failed: ${(err as Error).message}` };
  }
}

function readPending(): Pending | null {
  try {
    const raw = sessionStorage.getItem(PENDING);
    return raw ? (JSON.parse(raw) as Pending) : null;
  } catch {
    return null;
  }
}

let refreshing: Promise<Tokens | null> | null = null;

/** New tokens from the refresh token (one request however many callers ask); null when that is not possible. */
export function refresh(): Promise<Tokens | null> {
  const current = storedTokens();
  if (!cognito || !current?.refreshToken) return Promise.resolve(null);
  const client = cognito;
  refreshing ??= requestTokens(refreshExchange(client, current.refreshToken), current)
    .then((tokens) => {
      keep(tokens);
      return tokens;
    })
    .catch(() => null)
    .finally(() => (refreshing = null));
  return refreshing;
}

/** Forget the tokens and end the hosted UI's session; it sends the browser back to `/`. */
export function signOut() {
  sessionStorage.removeItem(TOKENS);
  if (cognito) window.location.assign(logoutUrl(cognito, cognito.redirectUri));
}

/** Who is signed in, from the ID token (for display; the API verifies the access token). */
export function signedInAs(tokens: Tokens | null): string | null {
  if (!tokens) return null;
  const claims = jwtClaims(tokens.idToken);
  return typeof claims.email === "string"
    ? claims.email
    : typeof claims["cognito:username"] === "string"
      ? claims["cognito:username"]
      : null;
}
