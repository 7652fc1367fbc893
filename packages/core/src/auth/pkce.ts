/**
 * OAuth 2.0 authorization code flow with PKCE (RFC 7636) against a Cognito domain: the
 * pieces the dashboard and `videoforge login` share. Web APIs only (Web Crypto, URL,
 * fetch), so the same file runs in the browser and in Node; no secret is involved, the
 * clients are public.
 */

/** `code_verifier`: 32 random bytes as base64url, 43 characters of RFC 7636's unreserved set. */
export function createVerifier(bytes = 32): string {
  if (bytes < 32 || bytes > 96) throw new Error("a PKCE verifier needs 32 to 96 random bytes (43 to 128 characters)");
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** `code_challenge` for method S256: base64url(SHA-256(ASCII(verifier))). */
export async function challengeOf(verifier: string): Promise<string> {
  if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier))
    throw new Error("a PKCE verifier is 43 to 128 characters of A-Z a-z 0-9 - . _ ~");
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

/** A random `state` value that ties a callback to the request that started it. */
export const createState = () => base64url(crypto.getRandomValues(new Uint8Array(16)));

export function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export interface OAuthClient {
  /** The Cognito domain: `videoforge-prod.auth.eu-west-1.amazoncognito.com`, or a full https URL. */
  domain: string;
  clientId: string;
  /** Where the hosted UI sends the browser back with `?code=`; registered on the app client. */
  redirectUri: string;
}

/**
 * The domain's base URL. A bare host means https; plain http is accepted only for a
 * loopback address (a test's fake token endpoint), never for a real identity provider.
 */
export function domainUrl(domain: string): string {
  const url = new URL(/^[a-z]+:\/\//i.test(domain) ? domain : `https://${domain}`);
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback))
    throw new Error(`the sign-in domain must use https: ${domain}`);
  return url.origin;
}

/** The hosted UI's sign-in address for this request (`/oauth2/authorize`). */
export function authorizeUrl(
  client: OAuthClient,
  opts: { challenge: string; state: string; scopes?: string[] },
): string {
  const url = new URL("/oauth2/authorize", domainUrl(client.domain));
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: client.clientId,
    redirect_uri: client.redirectUri,
    scope: (opts.scopes ?? ["openid", "email"]).join(" "),
    state: opts.state,
    code_challenge: opts.challenge,
    code_challenge_method: "S256",
  }).toString();
  return url.toString();
}

/** A request to `/oauth2/token`, as `fetch(url, init)` takes it. */
export interface TokenRequest {
  url: string;
  init: { method: "POST"; headers: Record<string, string>; body: string };
}

function tokenRequest(domain: string, params: Record<string, string>): TokenRequest {
  return {
    url: new URL("/oauth2/token", domainUrl(domain)).toString(),
    init: {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: new URLSearchParams(params).toString(),
    },
  };
}

/** Exchange the callback's `code` and the verifier for tokens. */
export const codeExchange = (client: OAuthClient, code: string, verifier: string) =>
  tokenRequest(client.domain, {
    grant_type: "authorization_code",
    client_id: client.clientId,
    code,
    redirect_uri: client.redirectUri,
    code_verifier: verifier,
  });

/** New access and ID tokens from a refresh token (Cognito keeps the refresh token the same). */
export const refreshExchange = (client: Pick<OAuthClient, "domain" | "clientId">, refreshToken: string) =>
  tokenRequest(client.domain, { grant_type: "refresh_token", client_id: client.clientId, refresh_token: refreshToken });

/** The hosted UI's sign-out address: ends its session cookie, then returns to `logoutUri`. */
export function logoutUrl(client: Pick<OAuthClient, "domain" | "clientId">, logoutUri: string): string {
  const url = new URL("/logout", domainUrl(client.domain));
  url.search = new URLSearchParams({ client_id: client.clientId, logout_uri: logoutUri }).toString();
  return url.toString();
}

export interface Tokens {
  accessToken: string;
  idToken: string;
  refreshToken?: string;
  /** Epoch milliseconds when the access token stops being accepted. */
  expiresAt: number;
}

/** Send a token request and read the answer; an OAuth error becomes an Error with its description. */
export async function requestTokens(req: TokenRequest, previous?: Tokens, now = Date.now()): Promise<Tokens> {
  const res = await fetch(req.url, req.init);
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON: reported below with the status
  }
  if (!res.ok || typeof body.access_token !== "string") {
    const why =
      typeof body.error === "string"
        ? `${body.error}${typeof body.error_description === "string" ? `: ${body.error_description}` : ""}`
        : `${res.status} ${text.slice(0, 200)}`;
    throw new Error(`the token endpoint refused the request (${why})`);
  }
  const expiresIn = typeof body.expires_in === "number" ? body.expires_in : 3600;
  return {
    accessToken: body.access_token,
    idToken: typeof body.id_token === "string" ? body.id_token : (previous?.idToken ?? ""),
    refreshToken: typeof body.refresh_token === "string" ? body.refresh_token : previous?.refreshToken,
    expiresAt: now + expiresIn * 1000,
  };
}

/**
 * When to refresh: a minute before expiry, or at 80 % of a shorter lifetime. The claims
 * are read, not verified: API Gateway verifies the token; this is for display only.
 */
export function refreshAt(tokens: Pick<Tokens, "expiresAt">, now = Date.now()): number {
  const left = tokens.expiresAt - now;
  return tokens.expiresAt - Math.min(60_000, Math.max(0, left) * 0.2);
}

/** The unverified payload of a JWT (display only: who is signed in). */
export function jwtClaims(jwt: string): Record<string, unknown> {
  const part = jwt.split(".")[1];
  if (!part) return {};
  try {
    const binary = atob(
      part
        .replace(/-/g, "+")
        .replace(/_/g, "/")
        .padEnd(Math.ceil(part.length / 4) * 4, "="),
    );
    const json = new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
    return JSON.parse(json) as Record<string, unknown>;
  } catch {
    return {};
  }
}
