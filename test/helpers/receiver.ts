import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  headers: IncomingMessage["headers"];
  /** The raw body, as signatures cover it. */
  body: string;
  signature: string;
}

/**
 * A webhook receiver on loopback: it keeps every request and answers each with the next status of `script` (the
 * last one repeats; change `state.script` to change its mind).
 */
export async function startReceiver(script: number[] = [200]) {
  const got: Received[] = [];
  const state = { script };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      got.push({ headers: req.headers, body, signature: String(req.headers["videoforge-signature"]) });
      const status = state.script[Math.min(got.length - 1, state.script.length - 1)]!;
      res.writeHead(status, { "content-type": "text/plain" }).end(status === 200 ? "ok" : "not today");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, got, state, close: () => new Promise<void>((r) => server.close(() => r())) };
}
export type Receiver = Awaited<ReturnType<typeof startReceiver>>;
