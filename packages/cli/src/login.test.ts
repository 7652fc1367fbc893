import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeCognito, type FakeCognito } from "../../../test/browser/fake-cognito.ts";
import { login, loginToken, type StoredLogin } from "./login.ts";

/**
 * `videoforge login` against the fake Cognito domain the browser test uses (loopback):
 * the printed address, the loopback callback, the token exchange with the verifier, the
 * 0600 file, and the renewal the API commands do with it. The "browser" follows the
 * printed address like a person who is already signed in at the hosted UI.
 */
const CLIENT_ID = "videoforge-cli-test";
const API = "https://abc123.execute-api.eu-west-1.amazonaws.com";
let cognito: FakeCognito;
let dir: string;
let issued = 0;
/** The app client's callback URLs: each run registers its own (the tests use port 0; the CLI's default is fixed). */
const callbacks: string[] = [];
const register = (authorizeUrl: string) => callbacks.push(new URL(authorizeUrl).searchParams.get("redirect_uri")!);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "videoforge-login-"));
  // the fake only knows the callback once the listener has its port: accept any loopback callback
  cognito = await startFakeCognito({
    clientId: CLIENT_ID,
    redirectUris: callbacks,
    accessToken: () => `access-${++issued}`,
    expiresIn: 3600,
  });
});
afterAll(async () => {
  await cognito?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A person's browser: open the address, follow the hosted UI's redirect to the loopback callback. */
async function openInBrowser(url: string): Promise<{ status: number; text: string }> {
  const toCallback = await fetch(url, { redirect: "manual" });
  expect(toCallback.status).toBe(302);
  const callback = toCallback.headers.get("location")!;
  const res = await fetch(callback.replace("//localhost:", "//127.0.0.1:"));
  return { status: res.status, text: await res.text() };
}

describe("videoforge login", () => {
  it("signs in with PKCE through a loopback callback and stores the tokens in a 0600 file", async () => {
    const file = join(dir, "nested", "credentials.json");
    let printed = "";
    let browser: Promise<{ status: number; text: string }> | undefined;

    const stored = await login({
      api: `${API}/`,
      domain: cognito.domain,
      clientId: CLIENT_ID,
      port: 0,
      file,
      onUrl: (url) => {
        register(url);
        printed = url;
        browser = openInBrowser(url);
      },
    });

    // the printed address: the hosted UI's authorize endpoint, code flow, S256, a loopback callback
    const authorize = new URL(printed);
    expect(authorize.origin + authorize.pathname).toBe(`${cognito.domain}/oauth2/authorize`);
    expect(authorize.searchParams.get("redirect_uri")).toMatch(/^http:\/\/localhost:\d+\/callback$/);
    expect(authorize.searchParams.get("code_challenge_method")).toBe("S256");
    expect(await browser).toMatchObject({ status: 200, text: expect.stringContaining("Signed in") });
    // the exchange sent the verifier whose SHA-256 is the printed challenge
    const exchange = cognito.tokenCalls.at(-1)!;
    expect(exchange.params).toMatchObject({
      grant_type: "authorization_code",
      client_id: CLIENT_ID,
      redirect_uri: authorize.searchParams.get("redirect_uri"),
    });
    expect(createHash("sha256").update(exchange.params.code_verifier!).digest("base64url")).toBe(
      authorize.searchParams.get("code_challenge"),
    );
    // the file: this user only, the tokens for this API
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(await readFile(file, "utf8")) as StoredLogin;
    expect(saved).toEqual(stored);
    expect(saved).toMatchObject({
      api: API,
      domain: cognito.domain,
      clientId: CLIENT_ID,
      tokens: { accessToken: `access-${issued}` },
    });
    expect(saved.tokens.refreshToken).toBeTruthy();

    // the API commands use it for that API, and only that API
    expect(await loginToken(API, file)).toBe(saved.tokens.accessToken);
    expect(await loginToken("http://127.0.0.1:8080", file)).toBeUndefined();

    // an hour later the token is renewed with the refresh token, and the file rewritten (still 0600)
    const later = saved.tokens.expiresAt - 30_000;
    const renewed = await loginToken(API, file, later);
    expect(renewed).toBe(`access-${issued}`);
    expect(renewed).not.toBe(saved.tokens.accessToken);
    expect(cognito.tokenCalls.at(-1)!.params).toEqual({
      grant_type: "refresh_token",
      client_id: CLIENT_ID,
      refresh_token: saved.tokens.refreshToken,
    });
    const rewritten = JSON.parse(await readFile(file, "utf8")) as StoredLogin;
    expect(rewritten.tokens).toMatchObject({ accessToken: renewed, refreshToken: saved.tokens.refreshToken });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it("ignores a callback that does not carry this run's state, and fails on the provider's error", async () => {
    let attempt: Promise<void> | undefined;
    const run = login({
      api: API,
      domain: cognito.domain,
      clientId: CLIENT_ID,
      port: 0,
      file: join(dir, "never.json"),
      onUrl: (url) => {
        register(url);
        const callback = new URL(
          new URL(url).searchParams.get("redirect_uri")!.replace("//localhost:", "//127.0.0.1:"),
        );
        attempt = (async () => {
          const forged = await fetch(`${callback}?code=stolen&state=forged`);
          expect(forged.status).toBe(400);
          await fetch(`${callback}?error=access_denied&error_description=${encodeURIComponent("User cancelled")}`);
        })();
      },
    });
    await expect(run).rejects.toThrow("sign-in failed: User cancelled");
    await attempt;
    await expect(stat(join(dir, "never.json"))).rejects.toThrow(/ENOENT/);
  });

  it("through the command: `videoforge login` prints the address, `jobs --api` then sends the token", async () => {
    // arrange: a stand-in for the deployed API that records who calls it
    const seen: (string | undefined)[] = [];
    const fakeApi = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ jobs: [] }));
    }).listen(0, "127.0.0.1");
    await once(fakeApi, "listening");
    const api = `http://127.0.0.1:${(fakeApi.address() as AddressInfo).port}`;
    const file = join(dir, "cli-credentials.json");
    const bin = join(import.meta.dirname, "../bin/videoforge.js");
    const env = {
      ...process.env,
      VIDEOFORGE_CREDENTIALS: file,
      VIDEOFORGE_TOKEN: "",
      VIDEOFORGE_DATA_DIR: join(dir, "no-data-dir"),
    };
    const run = (args: string[], onOut?: (text: string) => void) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const child = spawn(process.execPath, [bin, ...args], { env });
        let out = "";
        let err = "";
        child.stdout.on("data", (d: Buffer) => {
          out += d.toString();
          onOut?.(out);
        });
        child.stderr.on("data", (d: Buffer) => (err += d.toString()));
        child.on("close", (code) => resolve({ code, out, err }));
      });

    try {
      // act: log in; the "person" opens the printed address
      let opened = false;
      const login = await run(
        ["login", "--api", api, "--domain", cognito.domain, "--client-id", CLIENT_ID, "--port", "0"],
        (out) => {
          const url = /https?:\/\/\S+\/oauth2\/authorize\S+/.exec(out)?.[0];
          if (!url || opened) return;
          opened = true;
          register(url);
          void openInBrowser(url);
        },
      );
      expect(login.err).toBe("");
      expect(login.code).toBe(0);
      expect(login.out).toMatch(/^Open this address in a browser to sign in:/);
      expect(login.out).toContain(`Signed in as ada@example.com for ${api}; tokens kept in ${file} (mode 0600).`);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      const token = (JSON.parse(await readFile(file, "utf8")) as StoredLogin).tokens.accessToken;

      // act: an API command against that API
      const jobs = await run(["jobs", "--api", api]);

      // assert: it sent the login's access token
      expect(jobs.err).toBe("");
      expect(jobs.out).toBe("no jobs yet\n");
      expect(seen).toEqual([`Bearer ${token}`]);
    } finally {
      fakeApi.close();
    }
  }, 60_000);
});
