import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";

/**
 * A tiny stand-in for a Cognito domain's OAuth endpoints, on loopback only: enough of
 * `/oauth2/authorize`, `/oauth2/token` and `/logout` to run the PKCE code flow for real.
 * The authorize endpoint signs the "user" in at once (no form) and redirects with a code;
 * the token endpoint checks what Cognito checks (client, redirect URI, single-use code,
 * SHA-256 of the verifier against the challenge, refresh token) and records every request.
 */
export interface FakeCognitoOptions {
  clientId: string;
  /** Registered callback and sign-out URLs: anything else is refused, as Cognito does. */
  redirectUris: string[];
  /** The access token to issue (a test uses the local API's token so the API accepts it). */
  accessToken: () => string;
  /** Seconds the issued access tokens live. */
  expiresIn?: number;
  user?: { sub: string; email: string };
}

export interface TokenCall {
  grant_type: string | null;
  params: Record<string, string>;
  origin: string | null;
}

const unsignedJwt = (claims: Record<string, unknown>) =>
  [{ alg: "none", typ: "JWT" }, claims]
    .map((part) => Buffer.from(JSON.stringify(part)).toString("base64url"))
    .join(".") + ".";

export async function startFakeCognito(opts: FakeCognitoOptions) {
  const user = opts.user ?? { sub: "5f1c2d3e-0000-4000-8000-000000000001", email: "ada@example.com" };
  const codes = new Map<string, { challenge: string; redirectUri: string; clientId: string }>();
  const refreshTokens = new Set<string>();
  const tokenCalls: TokenCall[] = [];
  const authorizeCalls: URLSearchParams[] = [];
  const logouts: URLSearchParams[] = [];

  const issue = (withRefresh: boolean) => {
    const now = Math.floor(Date.now() / 1000);
    const expiresIn = opts.expiresIn ?? 3600;
    const refresh = withRefresh ? randomBytes(24).toString("base64url") : undefined;
    if (refresh) refreshTokens.add(refresh);
    return {
      access_token: opts.accessToken(),
      id_token: unsignedJwt({
        sub: user.sub,
        email: user.email,
        aud: opts.clientId,
        iat: now,
        exp: now + expiresIn,
        token_use: "id",
      }),
      ...(refresh ? { refresh_token: refresh } : {}),
      expires_in: expiresIn,
      token_type: "Bearer",
    };
  };

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json", "access-control-allow-origin": "*" });
    res.end(JSON.stringify(body));
  };

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", "http://fake");
    if (req.method === "GET" && url.pathname === "/oauth2/authorize") {
      const q = url.searchParams;
      authorizeCalls.push(q);
      const redirect = q.get("redirect_uri") ?? "";
      if (q.get("client_id") !== opts.clientId || !opts.redirectUris.includes(redirect))
        return json(res, 400, { error: "redirect_mismatch" });
      if (q.get("response_type") !== "code" || q.get("code_challenge_method") !== "S256" || !q.get("code_challenge"))
        return json(res, 400, { error: "invalid_request" });
      const code = randomBytes(16).toString("hex");
      codes.set(code, { challenge: q.get("code_challenge")!, redirectUri: redirect, clientId: q.get("client_id")! });
      const back = new URL(redirect);
      back.searchParams.set("code", code);
      if (q.get("state")) back.searchParams.set("state", q.get("state")!);
      res.writeHead(302, { location: back.toString() });
      return res.end();
    }
    if (req.method === "OPTIONS" && url.pathname === "/oauth2/token") {
      res.writeHead(204, {
        "access-control-allow-origin": "*",
        "access-control-allow-methods": "POST",
        "access-control-allow-headers": "content-type, accept",
      });
      return res.end();
    }
    if (req.method === "POST" && url.pathname === "/oauth2/token") {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
      const params = Object.fromEntries(form);
      tokenCalls.push({ grant_type: form.get("grant_type"), params, origin: req.headers.origin ?? null });
      if (!/^application\/x-www-form-urlencoded/.test(req.headers["content-type"] ?? ""))
        return json(res, 400, { error: "invalid_request", error_description: "form body expected" });
      if (form.get("client_id") !== opts.clientId) return json(res, 400, { error: "invalid_client" });
      if (form.get("grant_type") === "authorization_code") {
        const grant = codes.get(form.get("code") ?? "");
        codes.delete(form.get("code") ?? ""); // single use, even when the exchange fails
        if (!grant || grant.redirectUri !== form.get("redirect_uri")) return json(res, 400, { error: "invalid_grant" });
        const verifier = form.get("code_verifier") ?? "";
        if (createHash("sha256").update(verifier).digest("base64url") !== grant.challenge)
          return json(res, 400, { error: "invalid_grant", error_description: "code_verifier does not match" });
        return json(res, 200, issue(true));
      }
      if (form.get("grant_type") === "refresh_token") {
        if (!refreshTokens.has(form.get("refresh_token") ?? "")) return json(res, 400, { error: "invalid_grant" });
        return json(res, 200, issue(false));
      }
      return json(res, 400, { error: "unsupported_grant_type" });
    }
    if (req.method === "GET" && url.pathname === "/logout") {
      logouts.push(url.searchParams);
      const to = url.searchParams.get("logout_uri") ?? "";
      if (url.searchParams.get("client_id") !== opts.clientId || !opts.redirectUris.includes(to))
        return json(res, 400, { error: "invalid logout_uri" });
      res.writeHead(302, { location: to });
      return res.end();
    }
    return json(res, 404, { error: "not_found" });
  }

  const server = createServer(
    (req, res) => void handle(req, res).catch((err: Error) => json(res, 500, { error: err.message })),
  );
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const domain = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    domain,
    user,
    tokenCalls,
    authorizeCalls,
    logouts,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}
export type FakeCognito = Awaited<ReturnType<typeof startFakeCognito>>;
