import { createServer, type Server } from "node:http";
import { once } from "node:events";
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
// the config and PKCE modules alone: no AWS SDK needed to sign in
import { clientSettings, type ClientSettings } from "@videoforge/core/config";
import {
  authorizeUrl,
  challengeOf,
  codeExchange,
  createState,
  createVerifier,
  refreshExchange,
  requestTokens,
  type Tokens,
} from "@videoforge/core/auth";

/**
 * `videoforge login`: sign in to a deployed API through the Cognito hosted UI with PKCE
 * (RFC 8252's loopback redirect). The command prints the sign-in address; a listener on
 * this machine receives the browser's callback with the code; the tokens go to a file
 * only this user can read (0600), which the API commands then use for that API.
 */

/** Where `login` keeps its tokens: `VIDEOFORGE_CREDENTIALS`, else `$XDG_CONFIG_HOME/videoforge/credentials.json`. */
export function credentialsFile(
  settings: Pick<ClientSettings, "credentialsFile" | "configHome"> = clientSettings(),
): string {
  return (
    settings.credentialsFile ??
    join(settings.configHome ?? join(homedir(), ".config"), "videoforge", "credentials.json")
  );
}

/** The callback port Cognito must list (`http://localhost:8765/callback`): callback URLs match exactly. */
export const DEFAULT_LOGIN_PORT = 8765;

export interface LoginOptions {
  api: string;
  domain: string;
  clientId: string;
  /** Loopback port of the callback listener; 0 picks a free one (tests: the URL is not registered then). */
  port?: number;
  file?: string;
  /** Give up waiting for the browser after this long. */
  timeoutMs?: number;
  /** Told the address to open (printed by the command). */
  onUrl(url: string): void;
}

export interface StoredLogin {
  api: string;
  domain: string;
  clientId: string;
  tokens: Tokens;
}

const page = (title: string, text: string) =>
  `<!doctype html><meta charset="utf-8"><title>${title}</title>` +
  `<body style="font-family:sans-serif;margin:3rem"><h1>${title}</h1><p>${text}</p></body>`;

/** Run the sign-in; resolves once the tokens are stored. */
export async function login(opts: LoginOptions): Promise<StoredLogin> {
  const verifier = createVerifier();
  const state = createState();
  let settle!: { resolve: (code: string) => void; reject: (err: Error) => void };
  const gotCode = new Promise<string>((resolve, reject) => (settle = { resolve, reject }));

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname !== "/callback") {
      res.writeHead(404).end();
      return;
    }
    const send = (status: number, title: string, text: string) =>
      res.writeHead(status, { "content-type": "text/html; charset=utf-8" }).end(page(title, text));
    const error = url.searchParams.get("error");
    if (error) {
      send(400, "Sign-in failed", "Go back to the terminal.");
      return settle.reject(new Error(`sign-in failed: ${url.searchParams.get("error_description") ?? error}`));
    }
    // only the answer to this run's request is accepted
    if (url.searchParams.get("state") !== state || !url.searchParams.get("code")) {
      send(400, "Not this sign-in", "This address does not answer the sign-in this terminal started.");
      return;
    }
    send(200, "Signed in", "videoforge has your sign-in; you can close this tab.");
    settle.resolve(url.searchParams.get("code")!);
  });
  server.listen(opts.port ?? DEFAULT_LOGIN_PORT, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  const client = { domain: opts.domain, clientId: opts.clientId, redirectUri: `http://localhost:${port}/callback` };
  const timer = setTimeout(
    () => settle.reject(new Error("no sign-in arrived in time; run `videoforge login` again")),
    opts.timeoutMs ?? 5 * 60_000,
  );
  try {
    opts.onUrl(authorizeUrl(client, { challenge: await challengeOf(verifier), state }));
    const code = await gotCode;
    const tokens = await requestTokens(codeExchange(client, code, verifier));
    const stored: StoredLogin = { api: normalize(opts.api), domain: opts.domain, clientId: opts.clientId, tokens };
    await saveLogin(stored, opts.file);
    return stored;
  } finally {
    clearTimeout(timer);
    await close(server);
  }
}

const close = (server: Server) => new Promise<void>((r) => server.close(() => r()));
const normalize = (api: string) => api.replace(/\/+$/, "");

/** Write the tokens readable by this user only; replaced whole, never half written. */
export async function saveLogin(stored: StoredLogin, file = credentialsFile()) {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(stored, null, 2) + "\n", { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
}

async function readLogin(file: string): Promise<StoredLogin | null> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as StoredLogin;
  } catch {
    return null;
  }
}

/**
 * The access token `login` stored for `api`, renewed with the refresh token when it is about
 * to expire; undefined when there is no sign-in for that API (or it can no longer be renewed).
 */
export async function loginToken(api: string, file = credentialsFile(), now = Date.now()): Promise<string | undefined> {
  const stored = await readLogin(file);
  if (!stored || stored.api !== normalize(api)) return undefined;
  // a minute's margin: a command started now must not send a token that dies in flight
  if (now < stored.tokens.expiresAt - 60_000) return stored.tokens.accessToken;
  if (!stored.tokens.refreshToken) return undefined;
  const tokens = await requestTokens(refreshExchange(stored, stored.tokens.refreshToken), stored.tokens, now).catch(
    () => null,
  );
  if (!tokens) return undefined;
  await saveLogin({ ...stored, tokens }, file);
  return tokens.accessToken;
}
