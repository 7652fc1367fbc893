/**
 * Consumer of every rule's SQS dead-letter queue: a delivery that ran out of retries fails
 * its job with a readable reason, as the local bus does, instead of leaving it ENCODING
 * forever.
 *
 * Two kinds of message land in a rule's queue (stacks/subscriptions.ts), both JSON bodies:
 *  - EventBridge could not invoke the target: the body is the event itself, and EventBridge
 *    adds the message attributes ERROR_CODE, ERROR_MESSAGE, RETRY_ATTEMPTS,
 *    EXHAUSTED_RETRY_CONDITION, RULE_ARN and TARGET_ARN. We read ERROR_CODE, ERROR_MESSAGE
 *    and RETRY_ATTEMPTS; every one is optional here.
 *  - The function threw on every async attempt: Lambda's on-failure destination record,
 *    `{ requestContext: { condition, approximateInvokeCount }, requestPayload: <event>,
 *    responsePayload: { errorType, errorMessage } }`.
 * The rule is the one whose `<rule>-dlq` ends the queue's name (rules.ts names the queues).
 *
 * Trade-off: reporting a record as processed deletes it from the dead-letter queue, so it
 * cannot be redriven from there. It is consumed only after the job is failed, and its
 * envelope and error survive in the job's failure reason and in the "dead letter" log line,
 * which carries the whole envelope. Keeping it would need a second queue per rule, or a
 * consumer that never deletes (and so sees every message again at each visibility timeout
 * for 14 days). A record that cannot be handled is reported as a batch item failure and
 * stays in the queue.
 */
import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { z } from "zod";
import { Envelope, topology, type Subscription } from "@videoforge/events";
import { envelopeJobId, failOnDeadLetter, putMetric, type Deps } from "@videoforge/core";
import { lambdaDeps, lambdaLogger } from "./runtime.ts";

const log = lambdaLogger({ fn: "dead-letters" });

/** The subscription whose dead-letter queue this is: its name ends with `<rule>-dlq`. */
export function subscriptionOfQueue(queueArnOrName: string, subs: readonly Subscription[] = topology): Subscription {
  const name = queueArnOrName.split(":").pop() ?? "";
  const sub = subs
    .filter((s) => name === s.deadLetter || name.endsWith(`-${s.deadLetter}`))
    .sort((a, b) => b.deadLetter.length - a.deadLetter.length)[0];
  if (!sub) throw new Error(`queue "${name}" is no rule's dead-letter queue (names end with <rule>-dlq)`);
  return sub;
}

/** Lambda's asynchronous-invocation record, as its on-failure destination sends it. */
const InvocationRecord = z.object({
  requestContext: z.object({
    condition: z.string().optional(),
    approximateInvokeCount: z.number().int().positive().optional(),
  }),
  requestPayload: z.unknown(),
  responsePayload: z.unknown().optional(),
});

const ErrorPayload = z.object({ errorType: z.string().optional(), errorMessage: z.string().optional() });

export interface DeadLetter {
  sub: Subscription;
  queue: string;
  envelope: Envelope;
  error: string;
  attempts: number;
}

const attribute = (record: SQSRecord, name: string) => record.messageAttributes?.[name]?.stringValue;

/** What one SQS record says; throws on a body that is neither format. */
export function readDeadLetter(record: SQSRecord): DeadLetter {
  const sub = subscriptionOfQueue(record.eventSourceARN);
  const queue = sub.deadLetter;
  const body: unknown = JSON.parse(record.body);
  const invocation = InvocationRecord.safeParse(body);
  if (invocation.success) {
    const { requestContext, requestPayload, responsePayload } = invocation.data;
    const err = ErrorPayload.safeParse(responsePayload);
    const message = err.success ? [err.data.errorType, err.data.errorMessage].filter(Boolean).join(": ") : "";
    return {
      sub,
      queue,
      envelope: Envelope.parse(requestPayload),
      error: `${message || "the function failed"} (${requestContext.condition ?? "retries exhausted"})`,
      // the first invocation and Lambda's retries; the stack caps those at the rule's budget
      attempts: requestContext.approximateInvokeCount ?? 1 + Math.min(sub.retry.maximumRetryAttempts, 2),
    };
  }
  const code = attribute(record, "ERROR_CODE");
  const message = attribute(record, "ERROR_MESSAGE");
  const retries = Number(attribute(record, "RETRY_ATTEMPTS"));
  return {
    sub,
    queue,
    envelope: Envelope.parse(body),
    error: `EventBridge could not deliver the event: ${[code, message].filter(Boolean).join(": ") || "no error given"}`,
    attempts: Number.isInteger(retries) && retries >= 0 ? retries + 1 : 1 + sub.retry.maximumRetryAttempts,
  };
}

/** The SQS handler: partial batch responses, so one bad record does not hold back the rest. */
export function deadLetterConsumer(deps: () => Deps = lambdaDeps) {
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const batchItemFailures: SQSBatchItemFailure[] = [];
    for (const record of event.Records) {
      try {
        const letter = readDeadLetter(record);
        const jobId = envelopeJobId(letter.envelope);
        // the only place the event outlives this message: keep all of it
        log.warn("dead letter", {
          queue: letter.queue,
          rule: letter.sub.name,
          handler: letter.sub.handler,
          jobId,
          error: letter.error,
          attempts: letter.attempts,
          envelope: letter.envelope,
          messageId: record.messageId,
        });
        await failOnDeadLetter(deps(), {
          handler: letter.sub.handler,
          queue: letter.queue,
          envelope: letter.envelope,
          error: letter.error,
          attempts: letter.attempts,
          nextStep:
            `It reached the dead-letter queue ${letter.queue}; ` +
            'the event is in the function\'s log ("dead letter"). Retry the job with POST /jobs/:id/retry.',
        });
      } catch (err) {
        log.error("dead letter not handled; left in its queue", {
          messageId: record.messageId,
          queue: record.eventSourceARN,
          err,
          body: record.body.slice(0, 4096),
        });
        putMetric("DeadLetterErrors", 1, { messageId: record.messageId });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  };
}

export const handler = deadLetterConsumer();
