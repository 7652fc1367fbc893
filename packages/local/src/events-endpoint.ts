import { createServer } from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import type { LocalBus, PutEntry } from "./bus.ts";

/**
 * An HTTP endpoint that speaks EventBridge's PutEvents (AWS JSON 1.1), so every process —
 * including encoder child processes — publishes with the real EventBridge client.
 */
export async function startEventsEndpoint(bus: Pick<LocalBus, "putEvents">, port = 0) {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/x-amz-json-1.1" });
        res.end(JSON.stringify(body));
      };
      const target = req.headers["x-amz-target"];
      if (target !== "AWSEvents.PutEvents") return reply(400, { __type: "UnknownOperationException", message: `unsupported operation ${String(target)}` });
      let body: { Entries?: PutEntry[] };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { Entries?: PutEntry[] };
      } catch {
        return reply(400, { __type: "SerializationException", message: "body is not JSON" });
      }
      const entries = body.Entries ?? [];
      if (entries.length === 0 || entries.length > 10) return reply(400, { __type: "ValidationException", message: "Entries must hold 1 to 10 items" });
      reply(200, bus.putEvents(entries));
    });
  });
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
  const { port: bound } = server.address() as AddressInfo;
  return { endpoint: `http://127.0.0.1:${bound}`, stop: () => new Promise<void>((r) => server.close(() => r())) };
}
