import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifySignature } from "@videoforge/core";
import { makeEvent } from "@videoforge/events";
import { startTestCloud, type TestCloud } from "./helpers/cloud.ts";
import { startReceiver, type Receiver } from "./helpers/receiver.ts";

/**
 * Signed webhooks end to end: the real API, the local bus's queue rule, the sender's real POSTs
 * to receivers on loopback, every attempt in the table. The retry window is shortened by
 * configuration (2 s, first retry after 0.3 s) so a dead letter happens within the test.
 */
let cloud: TestCloud;

const receivers: Receiver[] = [];

async function api<T = Record<string, unknown>>(method: string, path: string, body?: unknown) {
  const res = await fetch(cloud.api.url + path, {
    method,
    headers: { authorization: `Bearer ${cloud.token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, text };
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A job that ends at once: an upload created, then cancelled (JobCancelled). */
async function cancelledJob(): Promise<string> {
  const created = await api<{ jobId: string }>("POST", "/uploads", { name: "hooked.mp4", size: 1000 });
  expect(created.status, created.text).toBe(201);
  const cancel = await api("DELETE", `/jobs/${created.body.jobId}`);
  expect(cancel.status, cancel.text).toBe(202);
  return created.body.jobId;
}

interface Hook {
  id: string;
  url: string;
  events: string[];
  secret?: string;
}
interface Delivery {
  id: string;
  type: string;
  jobId: string;
  status: string;
  attempts: { status: number; error: string }[];
  body: string;
}

async function deliveries(hook: Hook) {
  const res = await api<{ deliveries: Delivery[] }>("GET", `/webhooks/${hook.id}/deliveries`);
  expect(res.status, res.text).toBe(200);
  return res.body.deliveries;
}

async function register(url: string, events?: string[]): Promise<Hook> {
  const res = await api<Hook>("POST", "/webhooks", { url, ...(events ? { events } : {}) });
  expect(res.status, res.text).toBe(201);
  expect(res.body.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
  return res.body;
}

beforeAll(async () => {
  cloud = await startTestCloud({
    settings: { VIDEOFORGE_WEBHOOK_RETRY_SECONDS: "0.3", VIDEOFORGE_WEBHOOK_WINDOW_SECONDS: "2" },
  });
});
afterAll(async () => {
  await cloud?.stop();
  for (const r of receivers) await r.close();
});

describe("webhook registration", () => {
  it("refuses URLs that are not allowed, and bad event names, with a reason", async () => {
    const cases: [unknown, RegExp][] = [
      [{ url: "ftp://example.com/x" }, /http/i],
      [{ url: "http://10.0.0.5/hook" }, /private/],
      [{ url: "http://169.254.169.254/latest/meta-data/" }, /link-local/],
      [{ url: "http://user:pw@127.0.0.1/hook" }, /user name or password/],
      [{ url: "not a url" }, /url/i],
      [{ url: "http://127.0.0.1:9/x", events: ["video.exploded"] }, /Unknown webhook event "video.exploded"/],
    ];
    for (const [body, message] of cases) {
      const res = await api<{ error: { code: string; message: string } }>("POST", "/webhooks", body);
      expect(res.status, res.text).toBe(400);
      expect(res.body.error.code).toBe("invalid_request");
      expect(res.body.error.message).toMatch(message);
    }
    const listed = await api<{ webhooks: Hook[] }>("GET", "/webhooks");
    expect(listed.body.webhooks).toEqual([]);
  });
});

describe("webhook deliveries", () => {
  let flaky: Receiver;
  let hook: Hook;
  let jobId: string;

  it("signs each delivery, retries a failure with the same id, and records every attempt", async () => {
    flaky = await startReceiver([500, 200]);
    receivers.push(flaky);
    hook = await register(flaky.url, ["job.cancelled", "job.failed"]);
    // an endpoint for other events hears nothing of a cancellation
    const quiet = await startReceiver([200]);
    receivers.push(quiet);
    const completedOnly = await register(quiet.url, ["job.completed"]);
    const listed = await api<{ webhooks: Hook[] }>("GET", "/webhooks");
    expect(listed.body.webhooks.map((w) => w.id).sort()).toEqual([hook.id, completedOnly.id].sort());
    expect(listed.body.webhooks.every((w) => w.secret === undefined)).toBe(true);

    jobId = await cancelledJob();
    await until("the retry", () => (flaky.got.length >= 2 ? true : undefined));
    const [first, second] = flaky.got;
    // the same bytes, so the same id, on the retry; each attempt signed afresh
    expect(second!.body).toBe(first!.body);
    const payload = JSON.parse(first!.body) as { id: string; type: string; createdAt: string; data: { jobId: string } };
    expect(payload.type).toBe("job.cancelled");
    expect(payload.data.jobId).toBe(jobId);
    expect(payload.id).toMatch(/^evt_[0-9a-f]{32}$/);
    expect(Date.parse(payload.createdAt)).toBeGreaterThan(0);
    for (const r of [first!, second!]) {
      expect(r.headers["content-type"]).toBe("application/json");
      expect(r.headers["videoforge-delivery"]).toBe(payload.id);
      expect(verifySignature(r.headers["videoforge-signature"] as string, r.body, hook.secret!)).toMatchObject({
        ok: true,
      });
      // a receiver holding another secret, or a tampered body, refuses it
      expect(verifySignature(r.headers["videoforge-signature"] as string, r.body, "whsec_wrong").ok).toBe(false);
      expect(
        verifySignature(r.headers["videoforge-signature"] as string, r.body.replace("job.", "jab."), hook.secret!).ok,
      ).toBe(false);
    }

    const [delivery] = await until("the delivered row", async () => {
      const list = await deliveries(hook);
      return list[0]?.status === "delivered" ? list : undefined;
    });
    expect(delivery).toMatchObject({ id: payload.id, type: "job.cancelled", jobId, body: first!.body });
    expect(delivery!.attempts.map((a) => a.status)).toEqual([500, 200]);
    expect(delivery!.attempts[0]!.error).toMatch(/answered 500: not today/);
    expect(delivery!.attempts[1]!.error).toBe("");
    expect(quiet.got).toEqual([]);
    expect(await deliveries(completedOnly)).toEqual([]);
  });

  it("does not deliver a republished event twice", async () => {
    const before = flaky.got.length;
    await cloud.cloud.deps.events.publish(makeEvent("JobCancelled", { jobId, by: "someone" }));
    await cloud.cloud.bus.idle();
    expect(flaky.got.length).toBe(before);
    const list = await deliveries(hook);
    expect(list).toHaveLength(1);
    expect(list[0]!.attempts).toHaveLength(2);
  });

  it("dead-letters a delivery still failing when its window closes, and sends it again on request", async () => {
    const down = await startReceiver([503]);
    receivers.push(down);
    const hook2 = await register(down.url, ["job.cancelled"]);
    const job2 = await cancelledJob();
    const [dead] = await until("the dead letter", async () => {
      const list = await deliveries(hook2);
      return list[0]?.status === "failed" ? list : undefined;
    });
    // 2 s of doubling from 0.3 s: the first attempt and at least two retries, all refused
    expect(dead!.attempts.length).toBeGreaterThanOrEqual(3);
    expect(dead!.attempts.every((a) => a.status === 503 && /answered 503/.test(a.error))).toBe(true);
    expect(down.got).toHaveLength(dead!.attempts.length);
    expect(new Set(down.got.map((g) => g.body)).size).toBe(1);
    expect(JSON.parse(down.got[0]!.body)).toMatchObject({ type: "job.cancelled", data: { jobId: job2 } });

    // the endpoint is back: redelivery sends the same body and id once more
    down.state.script = [200];
    const again = await api<Delivery>("POST", `/webhooks/${hook2.id}/deliveries/${dead!.id}/redeliver`);
    expect(again.status, again.text).toBe(202);
    expect(again.body.status).toBe("pending");
    const [redelivered] = await until("the redelivery", async () => {
      const list = await deliveries(hook2);
      return list[0]?.status === "delivered" ? list : undefined;
    });
    expect(redelivered!.attempts.at(-1)).toMatchObject({ status: 200, error: "" });
    expect(down.got.at(-1)!.body).toBe(down.got[0]!.body);

    const missing = await api("POST", `/webhooks/${hook2.id}/deliveries/evt_nosuchdelivery/redeliver`);
    expect(missing.status).toBe(404);
  });

  it("removes an endpoint with its deliveries", async () => {
    const gone = await api<Hook>("DELETE", `/webhooks/${hook.id}`);
    expect(gone.status, gone.text).toBe(200);
    expect(gone.body.id).toBe(hook.id);
    expect((await api("GET", `/webhooks/${hook.id}/deliveries`)).status).toBe(404);
    expect((await api("DELETE", `/webhooks/${hook.id}`)).status).toBe(404);
    const listed = await api<{ webhooks: Hook[] }>("GET", "/webhooks");
    expect(listed.body.webhooks.map((w) => w.id)).not.toContain(hook.id);
  });
});

describe("videoforge webhooks (the CLI, in its own process)", () => {
  const BIN = fileURLToPath(new URL("../packages/cli/bin/videoforge.js", import.meta.url));
  const cli = (args: string[]) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, VIDEOFORGE_API: cloud.api.url, VIDEOFORGE_TOKEN: cloud.token },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out = { stdout: "", stderr: "" };
    child.stdout.on("data", (d: Buffer) => (out.stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out.stderr += d.toString()));
    const done = new Promise<number | null>((resolve) => child.on("close", resolve));
    return { child, out, done };
  };

  it("listen registers itself, prints a verified delivery, and removes itself on Ctrl-C", async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const p = (probe.address() as AddressInfo).port;
        probe.close(() => resolve(p));
      });
    });
    const listen = cli(["webhooks", "listen", "--port", String(port), "--events", "job.cancelled"]);
    await until("the listener", () => (/listening on/.test(listen.out.stdout) ? true : undefined));
    const id = /registered webhook (\S+) for job\.cancelled/.exec(listen.out.stdout)?.[1];
    expect(id, listen.out.stdout).toBeDefined();

    const listed = cli(["webhooks", "list"]);
    expect(await listed.done, listed.out.stderr).toBe(0);
    expect(listed.out.stdout).toContain(`${id}`);
    expect(listed.out.stdout).toContain(`http://127.0.0.1:${port}/`);

    const jobId = await cancelledJob();
    await until("the printed delivery", () => (listen.out.stdout.includes(jobId) ? true : undefined));
    expect(listen.out.stdout).toMatch(new RegExp(`✓ job\\.cancelled  evt_[0-9a-f]{32}  .*\\n  \\{"jobId":"${jobId}"`));
    // a forged request is refused and said so
    const forged = await fetch(`http://127.0.0.1:${port}/`, {
      method: "POST",
      headers: { "videoforge-signature": `t=${Math.floor(Date.now() / 1000)},v1=${"0".repeat(64)}` },
      body: "{}",
    });
    expect(forged.status).toBe(400);
    await until("the refusal", () =>
      /✗ refused POST \/: no v1 signature matches/.test(listen.out.stdout) ? true : undefined,
    );

    const shown = cli(["webhooks", "deliveries", id!]);
    expect(await shown.done, shown.out.stderr).toBe(0);
    expect(shown.out.stdout).toMatch(new RegExp(`job\\.cancelled\\s+job ${jobId}\\s+delivered\\s+1 attempts`));

    listen.child.kill("SIGINT");
    expect(await listen.done).toBe(0);
    expect(listen.out.stdout).toContain(`removed webhook ${id}`);
    const after = await api<{ webhooks: Hook[] }>("GET", "/webhooks");
    expect(after.body.webhooks.map((w) => w.id)).not.toContain(id);
  });

  it("add prints the secret once; rm removes; a refused URL exits non-zero with the API's reason", async () => {
    const add = cli(["webhooks", "add", "http://127.0.0.1:9/x", "--events", "job.failed"]);
    expect(await add.done, add.out.stderr).toBe(0);
    const [, id] = /^(\S+)\s+http:\/\/127\.0\.0\.1:9\/x\s+job\.failed$/m.exec(add.out.stdout) ?? [];
    expect(id, add.out.stdout).toBeDefined();
    expect(add.out.stdout).toMatch(/^secret: whsec_[A-Za-z0-9_-]{43}$/m);
    const rm = cli(["webhooks", "rm", id!]);
    expect(await rm.done, rm.out.stderr).toBe(0);
    expect(rm.out.stdout).toContain(`removed ${id}`);
    const refused = cli(["webhooks", "add", "http://192.168.1.10/hook"]);
    expect(await refused.done).not.toBe(0);
    expect(refused.out.stderr).toMatch(/400.*private address/s);
  });
});
