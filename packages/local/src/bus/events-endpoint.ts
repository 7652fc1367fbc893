import { createServer } from "node:http";
import { createHash } from "node:crypto";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { eventNames, isEventName, parseDetail, SOURCE } from "@videoforge/events";
import type { LocalBus, PutEntry } from "./bus.ts";
import { verifySigV4 } from "../storage/sigv4.ts";

/** PutEvents' own limits: 1 to 10 entries, 256 KiB per request. */
const MAX_ENTRIES = 10;
const MAX_REQUEST_BYTES = 256 * 1024;

const PutEventsRequest = z.object({
  Entries: z
    .array(
      z
        .object({
          Source: z.string().optional(),
          DetailType: z.string().optional(),
          Detail: z.string().optional(),
          EventBusName: z.string().optional(),
        })
        .loose(),
    )
    .min(1)
    .max(MAX_ENTRIES),
});

type EntryResult = ReturnType<LocalBus["putEvents"]>["Entries"][number];

/**
 * Why a videoforge entry cannot be delivered, or undefined when it can. EventBridge itself
 * would accept such an entry and every target's parse would refuse it; refusing it here, at
 * the door, tells the publisher at once instead of leaving it to the dead-letter queues.
 */
export function rejectEntry(entry: PutEntry): { ErrorCode: string; ErrorMessage: string } | undefined {
  // other sources and malformed entries: the bus decides
  if (entry.Source !== SOURCE || !entry.DetailType) return undefined;
  if (!isEventName(entry.DetailType)) {
    return {
      ErrorCode: "UnknownDetailType",
      ErrorMessage: `unknown detail-type "${entry.DetailType}" for source "${SOURCE}"; known: ${eventNames.join(", ")}`,
    };
  }
  let detail: unknown;
  try {
    detail = JSON.parse(entry.Detail ?? "");
  } catch {
    return undefined; // not JSON: the bus answers MalformedDetail, as EventBridge does
  }
  try {
    parseDetail(entry.DetailType, detail);
    return undefined;
  } catch (err) {
    return { ErrorCode: "InvalidDetail", ErrorMessage: (err as Error).message };
  }
}

/** Hand the acceptable entries to the bus; answer per entry, in the order given, like PutEvents. */
function putEvents(bus: Pick<LocalBus, "putEvents">, entries: readonly PutEntry[]) {
  const refused = entries.map(rejectEntry);
  const accepted = entries.filter((_, i) => !refused[i]);
  const delivered = accepted.length ? bus.putEvents(accepted).Entries : [];
  let next = 0;
  const results: EntryResult[] = refused.map((r) => r ?? delivered[next++]!);
  return { FailedEntryCount: results.filter((r) => "ErrorCode" in r).length, Entries: results };
}

/**
 * An HTTP endpoint that speaks EventBridge's PutEvents (AWS JSON 1.1), so every process —
 * including encoder child processes — publishes with the real EventBridge client. Whatever
 * arrives, it answers: a bad request is a 400, never an exception in the server.
 */
export async function startEventsEndpoint(
  bus: Pick<LocalBus, "putEvents">,
  port = 0,
  opts: { credentials?: Record<string, string> } = {},
) {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    const reply = (status: number, body: unknown) => {
      if (res.headersSent) return;
      res.writeHead(status, { "content-type": "application/x-amz-json-1.1" });
      res.end(JSON.stringify(body));
    };
    req.on("data", (c: Buffer) => {
      bytes += c.length;
      if (bytes <= MAX_REQUEST_BYTES) chunks.push(c);
    });
    req.on("end", () => {
      const target = req.headers["x-amz-target"];
      if (target !== "AWSEvents.PutEvents")
        return reply(400, { __type: "UnknownOperationException", message: `unsupported operation ${String(target)}` });
      if (bytes > MAX_REQUEST_BYTES)
        return reply(400, {
          __type: "ValidationException",
          message: `the request is ${bytes} bytes; PutEvents takes at most ${MAX_REQUEST_BYTES}`,
        });
      if (opts.credentials) {
        // only the local cloud's own processes publish: a forged VideoUploaded could adopt anyone's upload
        const payloadHash = createHash("sha256").update(Buffer.concat(chunks)).digest("hex");
        const verdict = verifySigV4(
          { method: req.method ?? "POST", url: req.url ?? "/", headers: req.headers },
          (id) => opts.credentials![id],
          Date.now(),
          { payloadHash },
        );
        if (!verdict.ok)
          return reply(403, {
            __type: verdict.code === "InvalidAccessKeyId" ? "UnrecognizedClientException" : "AccessDeniedException",
            message: verdict.message,
          });
      }
      let raw: unknown;
      try {
        raw = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        return reply(400, { __type: "SerializationException", message: "body is not JSON" });
      }
      const body = PutEventsRequest.safeParse(raw);
      if (!body.success)
        return reply(400, {
          __type: "ValidationException",
          message: `Entries must hold 1 to ${MAX_ENTRIES} entries with string fields: ${z.prettifyError(body.error)}`,
        });
      try {
        reply(200, putEvents(bus, body.data.Entries));
      } catch (err) {
        reply(500, { __type: "InternalException", message: err instanceof Error ? err.message : String(err) });
      }
    });
    req.on("error", () => reply(400, { __type: "SerializationException", message: "the request was cut off" }));
  });
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
  const { port: bound } = server.address() as AddressInfo;
  return { endpoint: `http://127.0.0.1:${bound}`, stop: () => new Promise<void>((r) => server.close(() => r())) };
}
