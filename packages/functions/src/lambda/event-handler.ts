/**
 * The one Lambda entry of every topology handler. `npm run build:aws` bundles it once per
 * handler with the name fixed at build time (stacks/build-artifacts.ts); `sst dev`, which runs
 * TypeScript files, calls `handler` here, and the stacks name the handler in VIDEOFORGE_HANDLER.
 * A `lambda` rule invokes it with the EventBridge event; a `queue` rule's SQS queue with a batch
 * of records whose bodies are those events.
 */
import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { ChangeMessageVisibilityCommand, SQSClient } from "@aws-sdk/client-sqs";
import { isHandlerName, isRetryLater, type HandlerName } from "@videoforge/events";
import { processSettings, type Deps } from "@videoforge/core";
import { handlers } from "../registry.ts";
import type { Handler } from "../handlers/on.ts";
import { lambdaConfig, lambdaDeps, lambdaLogger, parseEventBridge } from "./runtime.ts";

/**
 * A Lambda target of one rule: the same handler code the local bus calls in process. A `lambda`
 * rule invokes it with the EventBridge event, and a throw fails the invocation, which is what
 * makes Lambda retry it; a `queue` rule's event source mapping with SQS records (queueHandler).
 */
export function eventHandler(name: HandlerName, deps: () => Deps = lambdaDeps) {
  const handler = handlers[name];
  let queued: ((event: SQSEvent) => Promise<SQSBatchResponse>) | undefined;
  return async (event: unknown): Promise<SQSBatchResponse | undefined> => {
    if (isSqsEvent(event)) {
      queued ??= queueHandler(handler, visibilityChanger(new SQSClient({ region: lambdaConfig().region })), deps);
      return queued(event);
    }
    const { parsed } = parseEventBridge(event);
    await handler.handle(deps(), parsed);
    return undefined;
  };
}

/** SQS allows a message to stay hidden at most 12 hours. */
const MAX_VISIBILITY_SECONDS = 43_200;

/** Hide a record from its queue for this long: it comes back then (SQS's way of "later"). */
export type HideRecord = (record: SQSRecord, seconds: number) => Promise<void>;

/** `arn:aws:sqs:<region>:<account>:<name>` → the queue's URL, which SQS's calls take. */
export function queueUrlOf(arn: string): string {
  const [, , , region, account, name] = arn.split(":");
  if (!region || !account || !name) throw new Error(`not an SQS queue ARN: ${arn}`);
  return `https://sqs.${region}.amazonaws.com/${account}/${name}`;
}

export function visibilityChanger(client: Pick<SQSClient, "send">): HideRecord {
  return async (record, seconds) => {
    await client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrlOf(record.eventSourceARN),
        ReceiptHandle: record.receiptHandle,
        VisibilityTimeout: Math.max(0, Math.min(MAX_VISIBILITY_SECONDS, Math.ceil(seconds))),
      }),
    );
  };
}

/**
 * A `queue` rule's consumer (EventBridge → SQS → here, partial batch responses): each record's
 * body is one EventBridge event. A handler with work due later (RetryLaterError) gets its record
 * hidden for that long and reported as not done, so SQS hands it back then; any other error
 * leaves it for the queue's visibility timeout, and after the receive limit its dead-letter queue.
 */
export function queueHandler(handler: Handler, hide: HideRecord, deps: () => Deps = lambdaDeps) {
  const log = lambdaLogger({ fn: "queue" });
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const batchItemFailures: SQSBatchItemFailure[] = [];
    for (const record of event.Records) {
      try {
        const { parsed } = parseEventBridge(JSON.parse(record.body));
        await handler.handle(deps(), parsed);
      } catch (err) {
        batchItemFailures.push({ itemIdentifier: record.messageId });
        if (isRetryLater(err)) {
          await hide(record, err.retryAfterMs / 1000).catch((hideErr: unknown) =>
            log.error("could not delay the message; it returns after the visibility timeout", {
              messageId: record.messageId,
              err: hideErr,
            }),
          );
          continue;
        }
        log.error("message failed; the queue hands it back", { messageId: record.messageId, err });
      }
    }
    return { batchItemFailures };
  };
}

const isSqsEvent = (event: unknown): event is SQSEvent =>
  typeof event === "object" && event !== null && Array.isArray((event as Partial<SQSEvent>).Records);

/** The handler VIDEOFORGE_HANDLER names; an unknown name fails the first invocation loudly. */
function namedHandler(): (event: unknown) => Promise<unknown> {
  const name = processSettings().task.handler ?? "";
  if (!isHandlerName(name)) throw new Error(`VIDEOFORGE_HANDLER names no handler: "${name}" (events/src/handlers.ts)`);
  return eventHandler(name);
}

let named: ((event: unknown) => Promise<unknown>) | undefined;

/** `sst dev`'s entry (`packages/functions/src/lambda/event-handler.handler`). */
export const handler = (event: unknown): Promise<unknown> => (named ??= namedHandler())(event);
