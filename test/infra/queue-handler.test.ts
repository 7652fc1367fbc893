import { ChangeMessageVisibilityCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import type { SQSEvent } from "aws-lambda";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { RetryLaterError } from "@videoforge/events";
import type { Deps } from "@videoforge/core";
import { queueHandler, queueUrlOf, visibilityChanger } from "@videoforge/functions/lambda/event-handler";
import type { Handler } from "../../packages/functions/src/handlers/on.ts";
import { envelopeOf } from "./samples.ts";

/**
 * A queue rule's function in its SQS mode (EventBridge → SQS → Lambda): what it tells SQS when the handler has
 * work for later, and what it reports. SQS cannot run here, so its client is mocked and the exact request asserted.
 */
const sqs = mockClient(SQSClient);
// the test files share one module cache (isolate: false): the real client's send comes back for the next file
afterAll(() => {
  sqs.restore();
});
afterEach(() => sqs.reset());

const QUEUE_ARN = "arn:aws:sqs:eu-west-1:123456789012:videoforge-prod-DeliverWebhooksQueue-abc";
const record = (messageId: string, body: string) => ({
  messageId,
  receiptHandle: `handle-${messageId}`,
  body,
  attributes: {
    ApproximateReceiveCount: "1",
    SentTimestamp: "0",
    SenderId: "events",
    ApproximateFirstReceiveTimestamp: "0",
  },
  messageAttributes: {},
  md5OfBody: "",
  eventSource: "aws:sqs",
  eventSourceARN: QUEUE_ARN,
  awsRegion: "eu-west-1",
});
const cancelled = (jobId: string) => JSON.stringify(envelopeOf("JobCancelled", { jobId, by: "user-1" }));

/** Stands in for the handler: what it does is decided per job id (this tests the entry, not a handler). */
const scripted: Handler = {
  async handle(_deps, event) {
    const { jobId } = event.detail;
    if (jobId === "job_later_1") throw new RetryLaterError(90_500);
    if (jobId === "job_broken_1") throw new Error("table unreachable");
  },
};
const noDeps = () => ({}) as Deps;

describe("a queue rule's function", () => {
  it("hides a record the handler wants later for that long and reports it; reports a failure as is", async () => {
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    const run = queueHandler(scripted, visibilityChanger(new SQSClient({ region: "eu-west-1" })), noDeps);
    const event: SQSEvent = {
      Records: [
        record("m-done", cancelled("job_fine_1")),
        record("m-later", cancelled("job_later_1")),
        record("m-broken", cancelled("job_broken_1")),
        record("m-garbage", "{not json"),
      ],
    };
    const answer = await run(event);
    expect(answer.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(["m-later", "m-broken", "m-garbage"]);
    // only the hand-back changes visibility: 90.5 s rounds up to 91
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand).map((c) => c.args[0].input)).toEqual([
      {
        QueueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/videoforge-prod-DeliverWebhooksQueue-abc",
        ReceiptHandle: "handle-m-later",
        VisibilityTimeout: 91,
      },
    ]);
  });

  it("never asks SQS for more than its 12-hour visibility ceiling", async () => {
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    const hide = visibilityChanger(new SQSClient({ region: "eu-west-1" }));
    await hide(record("m", "{}"), 3 * 86_400);
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)[0]!.args[0].input.VisibilityTimeout).toBe(43_200);
  });

  it("still reports the record when SQS refuses the change (it comes back after the queue's timeout)", async () => {
    sqs.on(ChangeMessageVisibilityCommand).rejects(new Error("throttled"));
    const run = queueHandler(scripted, visibilityChanger(new SQSClient({ region: "eu-west-1" })), noDeps);
    const answer = await run({ Records: [record("m-later", cancelled("job_later_1"))] });
    expect(answer.batchItemFailures).toEqual([{ itemIdentifier: "m-later" }]);
  });

  it("derives a queue's URL from its ARN and refuses anything else", () => {
    expect(queueUrlOf("arn:aws:sqs:us-east-1:000000000000:q")).toBe(
      "https://sqs.us-east-1.amazonaws.com/000000000000/q",
    );
    expect(() => queueUrlOf("not-an-arn")).toThrow(/not an SQS queue ARN/);
  });
});
