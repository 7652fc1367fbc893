import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import type { Page } from "playwright-core";
import { webDir, withDashboard } from "@videoforge/local/api-host";
import { useTestCloud } from "../helpers/cloud.ts";
import { launchChromium } from "./chromium.ts";
import { startFakeCognito, type FakeCognito } from "./fake-cognito.ts";

/**
 * The dashboard as the AWS build makes it (`VITE_COGNITO_DOMAIN`, `VITE_COGNITO_CLIENT_ID`)
 * signing in through the hosted UI with PKCE, against a fake Cognito domain on loopback:
 * authorize → callback with `code` → token exchange with the verifier → API calls with the
 * access token → refresh before expiry → sign-out. The page is served from its own origin
 * (as CloudFront would), with the API behind it on the same origin.
 */
const env = useTestCloud();
const CLIENT_ID = "videoforge-web-test";
/** Access tokens live 3 s here, so the page must renew them while the test watches. */
const TOKEN_SECONDS = 3;

let browser: Awaited<ReturnType<typeof launchChromium>>;
let cognito: FakeCognito;
let site: { origin: string; server: Server; dist: string };

const poll = <T>(fn: () => T | Promise<T>, opts: { timeout?: number } = {}) =>
  expect.poll(fn, { timeout: 10_000, interval: 100, ...opts });
type PageGlobals = { sessionStorage: { getItem(k: string): string | null; length: number } };
const sessionTokens = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as PageGlobals).sessionStorage.getItem("videoforge.auth.tokens"));

beforeAll(async () => {
  // the site's origin first: Cognito must know it as the callback before the build knows Cognito
  const dist = await mkdtemp(join(tmpdir(), "videoforge-cognito-web-"));
  const api = env.cloud.api.url;
  const proxy = async (req: Request) => {
    const url = new URL(req.url);
    // only the API's paths: the local API server would answer page navigations with its own (token) build
    if (!/^\/(jobs|uploads|health)(\/|$)/.test(url.pathname)) return new Response(null, { status: 404 });
    const body = req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer();
    return fetch(new URL(url.pathname + url.search, api), {
      method: req.method,
      headers: req.headers,
      body,
      redirect: "manual",
    });
  };
  // the dashboard's own security headers, with the one change a Cognito build needs: the page
  // may also connect to the Cognito domain (its token endpoint), and to nothing else
  const dashboard = withDashboard(proxy, dist);
  const withCognitoCsp = async (req: Request) => {
    const res = await dashboard(req);
    const csp = res.headers.get("content-security-policy");
    if (!csp) return res;
    const headers = new Headers(res.headers);
    headers.set("content-security-policy", csp.replace("connect-src 'self'", `connect-src 'self' ${cognito.domain}`));
    return new Response(res.body, { status: res.status, headers });
  };
  const server = serve({ fetch: withCognitoCsp, port: 0, hostname: "127.0.0.1" }) as Server;
  await once(server, "listening");
  site = { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, dist };
  cognito = await startFakeCognito({
    clientId: CLIENT_ID,
    redirectUris: [`${site.origin}/`],
    accessToken: () => env.cloud.token ?? "none",
    expiresIn: TOKEN_SECONDS,
  });

  // arrange: the dashboard built as the StaticSite builds it, with the Cognito variables
  const envDir = await mkdtemp(join(tmpdir(), "videoforge-cognito-env-"));
  await writeFile(join(envDir, ".env"), `VITE_COGNITO_DOMAIN=${cognito.domain}\nVITE_COGNITO_CLIENT_ID=${CLIENT_ID}\n`);
  const { build } = await import("vite");
  const [, launched] = await Promise.all([
    build({
      root: webDir,
      configFile: join(webDir, "vite.config.ts"),
      envDir,
      logLevel: "warn",
      build: { outDir: dist, emptyOutDir: true },
    }),
    launchChromium(),
  ]);
  await rm(envDir, { recursive: true, force: true });
  browser = launched;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((r) => (site?.server ? site.server.close(() => r()) : r()));
  await cognito?.stop();
  if (site) await rm(site.dist, { recursive: true, force: true });
});

describe("signing in on AWS (Cognito hosted UI, PKCE)", () => {
  it("signs in via the hosted UI, returns to the page it started on, calls the API with the access token", async () => {
    // arrange: a job of this user, so its page has something to show
    const created = await env.cloud.client.call<{ jobId: string }>("POST", "/uploads", {
      name: "signed-in.mp4",
      size: 1000,
    });
    const page = await browser.context.newPage();
    const apiAuth: (string | null)[] = [];
    page.on("request", (r) => {
      if (/\/(jobs|uploads)(\/|$|\?)/.test(new URL(r.url()).pathname)) apiAuth.push(r.headers().authorization ?? null);
    });
    let refused = 0;
    page.on("response", (r) => void (r.status() === 401 && refused++));

    // act: open a job's page with no session: the page asks to sign in and calls no API
    const served = await page.goto(`${site.origin}/job/${created.jobId}`);
    expect(served!.headers()["content-security-policy"]).toContain(`connect-src 'self' ${cognito.domain}`);
    await poll(() => page.getByRole("heading", { name: "Sign in to videoforge" }).count()).toBe(1);
    expect(apiAuth).toEqual([]);
    await page.getByRole("button", { name: "Sign in" }).click();

    // assert: back on the same job's page, signed in, with the callback's code gone from the address
    await poll(() => page.getByTestId("signed-in-as").textContent()).toBe("ada@example.com");
    expect(new URL(page.url()).pathname).toBe(`/job/${created.jobId}`);
    expect(new URL(page.url()).search).toBe("");
    await poll(() => page.getByText("signed-in.mp4").count()).toBeGreaterThan(0);

    // the authorize request: code flow, S256, the dashboard's root as callback
    const authorize = Object.fromEntries(cognito.authorizeCalls[0]!);
    expect(authorize).toMatchObject({
      response_type: "code",
      client_id: CLIENT_ID,
      redirect_uri: `${site.origin}/`,
      code_challenge_method: "S256",
      scope: "openid email",
    });
    // the token exchange: the code, the callback, and the verifier whose SHA-256 is the challenge
    const exchange = cognito.tokenCalls.find((c) => c.grant_type === "authorization_code")!;
    expect(Object.keys(exchange.params).sort()).toEqual([
      "client_id",
      "code",
      "code_verifier",
      "grant_type",
      "redirect_uri",
    ]);
    expect(exchange.params).toMatchObject({ client_id: CLIENT_ID, redirect_uri: `${site.origin}/` });
    expect(exchange.params.code_verifier).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
    expect(createHash("sha256").update(exchange.params.code_verifier!).digest("base64url")).toBe(
      authorize.code_challenge,
    );
    expect(exchange.origin).toBe(site.origin);
    // every API call carried the access token; none went out without it
    expect(apiAuth.length).toBeGreaterThan(0);
    expect(new Set(apiAuth)).toEqual(new Set([`Bearer ${env.cloud.token}`]));
    // tokens are kept for this tab only, and the verifier is gone
    const kept = JSON.parse((await sessionTokens(page))!) as {
      accessToken: string;
      refreshToken: string;
      expiresAt: number;
    };
    expect(kept.accessToken).toBe(env.cloud.token);
    expect(kept.refreshToken).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(
      await page.evaluate(() =>
        (globalThis as unknown as PageGlobals).sessionStorage.getItem("videoforge.auth.pending"),
      ),
    ).toBeNull();

    // act: let the 3 s access token run out while the page polls
    const before = cognito.tokenCalls.length;
    await poll(() => cognito.tokenCalls.slice(before).filter((c) => c.grant_type === "refresh_token").length, {
      timeout: 10_000,
    }).toBeGreaterThanOrEqual(2);

    // assert: renewed with the refresh token (before expiry, so the API never said 401), still signed in
    const renewal = cognito.tokenCalls.slice(before).find((c) => c.grant_type === "refresh_token")!;
    expect(renewal.params).toEqual({
      grant_type: "refresh_token",
      client_id: CLIENT_ID,
      refresh_token: kept.refreshToken,
    });
    const renewed = JSON.parse((await sessionTokens(page))!) as { expiresAt: number; refreshToken: string };
    expect(renewed.expiresAt).toBeGreaterThan(kept.expiresAt);
    expect(renewed.refreshToken).toBe(kept.refreshToken);
    expect(await page.getByRole("heading", { name: "Sign in to videoforge" }).count()).toBe(0);
    expect(refused).toBe(0);
    expect(new Set(apiAuth)).toEqual(new Set([`Bearer ${env.cloud.token}`]));

    // act: sign out
    await page.getByRole("button", { name: "Sign out" }).click();

    // assert: the hosted UI's session ended and the page is back at the sign-in prompt, without tokens
    await poll(() => page.getByRole("heading", { name: "Sign in to videoforge" }).count()).toBe(1);
    expect(Object.fromEntries(cognito.logouts[0]!)).toEqual({ client_id: CLIENT_ID, logout_uri: `${site.origin}/` });
    expect(await sessionTokens(page)).toBeNull();
    await page.close();
  });

  it("refuses a callback it did not start (wrong state) and exchanges nothing", async () => {
    const page = await browser.context.newPage();
    const calls = cognito.tokenCalls.length;
    await page.goto(`${site.origin}/?code=stolen-code&state=forged`);
    await poll(() => page.getByTestId("sign-in-error").textContent()).toMatch(
      /does not belong to a sign-in started here/,
    );
    expect(new URL(page.url()).search).toBe("");
    expect(cognito.tokenCalls.length).toBe(calls);
    expect(await sessionTokens(page)).toBeNull();
    await page.close();
  });
});
