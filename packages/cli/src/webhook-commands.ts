import { createServer } from "node:http";
import { SIGNATURE_HEADER, verifySignature } from "@videoforge/core/webhook-signature";
import type { WebhookEventType } from "@videoforge/core/contract";
import type { ApiClient } from "./api-client.ts";

/** `--events a,b` as the API takes it; absent or empty: every event (the API's default). The API checks the names. */
function eventsOption(events: string | undefined): { events?: WebhookEventType[] } {
  const list = events
    ?.split(",")
    .map((e) => e.trim())
    .filter(Boolean);
  return list?.length ? { events: list as WebhookEventType[] } : {};
}

/** `videoforge webhooks add URL`: registers it and prints the secret (shown this once). */
export async function webhooksAdd(client: ApiClient, url: string, events?: string): Promise<number> {
  const hook = await client.webhooks.add({ url, ...eventsOption(events) });
  process.stdout.write(
    `${hook.id}  ${hook.url}  ${hook.events.join(",")}\n` +
      `secret: ${hook.secret}\n(shown once: verify each delivery's ${SIGNATURE_HEADER} header with it)\n`,
  );
  return 0;
}

export async function webhooksList(client: ApiClient): Promise<number> {
  const { webhooks } = await client.webhooks.list();
  if (!webhooks.length) process.stdout.write("no webhooks\n");
  for (const w of webhooks)
    process.stdout.write(`${w.id}  ${new Date(w.createdAt).toISOString()}  ${w.url}  ${w.events.join(",")}\n`);
  return 0;
}

export async function webhooksRemove(client: ApiClient, id: string): Promise<number> {
  const hook = await client.webhooks.remove(id);
  process.stdout.write(`removed ${hook.id} (${hook.url})\n`);
  return 0;
}

export async function webhooksDeliveries(client: ApiClient, id: string): Promise<number> {
  const { deliveries } = await client.webhooks.deliveries(id);
  if (!deliveries.length) process.stdout.write("no deliveries\n");
  for (const d of deliveries) {
    const last = d.attempts.at(-1);
    const next = d.nextAttemptAt ? `  next ${new Date(d.nextAttemptAt).toISOString()}` : "";
    process.stdout.write(
      `${d.id}  ${d.type.padEnd(13)}  job ${d.jobId}  ${d.status.padEnd(9)}  ${d.attempts.length} attempts${next}\n` +
        (last?.error ? `    ${last.error}\n` : ""),
    );
  }
  return 0;
}

export async function webhooksRedeliver(client: ApiClient, id: string, deliveryId: string): Promise<number> {
  const d = await client.webhooks.redeliver(id, deliveryId);
  process.stdout.write(`${d.id} is ${d.status} again\n`);
  return 0;
}

/**
 * `videoforge webhooks listen --port N`: a receiver for trying webhooks out. It prints each delivery whose
 * signature verifies and refuses (400) any other. Without `--secret` it registers itself with the API for the
 * given events and removes that registration when stopped (Ctrl-C).
 */
export async function webhooksListen(
  client: ApiClient,
  opts: { port: number; host: string; secret?: string; events?: string },
): Promise<number> {
  const url = `http://${opts.host}:${opts.port}/`;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      // a delivery is a few kilobytes: anything huge is not one
      if (size <= 1024 * 1024) chunks.push(c);
    });
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const header = req.headers[SIGNATURE_HEADER];
      const verdict = verifySignature(Array.isArray(header) ? header[0] : header, body, secret);
      if (!verdict.ok) {
        process.stdout.write(`✗ refused ${req.method} ${req.url}: ${verdict.reason}\n`);
        res.writeHead(400, { "content-type": "text/plain" }).end(verdict.reason);
        return;
      }
      let line = body;
      try {
        const event = JSON.parse(body) as { id: string; type: string; createdAt: string; data: unknown };
        line = `${event.type}  ${event.id}  ${event.createdAt}\n  ${JSON.stringify(event.data)}`;
      } catch {
        // signed but not JSON: show it as it came
      }
      process.stdout.write(`✓ ${line}\n`);
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, resolve);
  });
  let secret = opts.secret ?? "";
  let registered: string | undefined;
  if (!secret) {
    const hook = await client.webhooks.add({ url, ...eventsOption(opts.events) });
    secret = hook.secret ?? "";
    registered = hook.id;
    process.stdout.write(`registered webhook ${hook.id} for ${hook.events.join(",")}\n`);
  }
  process.stdout.write(`listening on ${url} (Ctrl-C to stop)\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  server.close();
  if (registered) {
    await client.webhooks.remove(registered).catch(() => undefined);
    process.stdout.write(`removed webhook ${registered}\n`);
  }
  return 0;
}
