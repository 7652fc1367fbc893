import { describe, expect, it } from "vitest";
import type { SQSRecord } from "aws-lambda";
import { topology, type Envelope } from "@videoforge/events";
import { setLogSink } from "@videoforge/core";
import { deadLetterConsumer, subscriptionOfQueue } from "@videoforge/functions/lambda/dead-letters";
import { deadLetterQueueName } from "../../stacks/rules.ts";
import { useTestCloud } from "../helpers/cloud.ts";
import { envelopeOf, largestChunkReady, samples } from "./samples.ts";

/**
 * The AWS dead-letter consumer against the local cloud's table and bus: SQS records shaped
 * as Lambda's SQS event source delivers them, from queues named as the stack names them.
 */
const t = useTestCloud();
const ARN_PREFIX = "arn:aws:sqs:eu-west-1:123456789012:";
const queueArn = (dlq: string) => ARN_PREFIX + deadLetterQueueName("videoforge", "prod", dlq);

let seq = 0;
function sqsRecord(queue: string, body: string, attributes: Record<string, string> = {}): SQSRecord {
  const id = `msg-${++seq}`;
  return {
    messageId: id,
    receiptHandle: `rh-${id}`,
    body,
    attributes: {
      ApproximateReceiveCount: "1",
      SentTimestamp: String(Date.now()),
      SenderId: "AIDAEXAMPLE",
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(attributes).map(([k, v]) => [
        k,
        {
          stringValue: v,
          stringListValues: [],
          binaryListValues: [],
          dataType: k === "RETRY_ATTEMPTS" ? "Number" : "String",
        },
      ]),
    ),
    md5OfBody: "0",
    eventSource: "aws:sqs",
    eventSourceARN: queue,
    awsRegion: "eu-west-1",
  };
}

async function jobIn(status: "ENCODING" | "ASSEMBLING") {
  const { deps } = t.cloud.cloud;
  const jobId = `job_dlq_${Date.now()}_${++seq}`;
  await deps.db.entities.job
    .create({ jobId, owner: "user-1", status, sourceName: "holiday.mp4", ladder: ["720p"], createdAt: Date.now() })
    .go();
  return jobId;
}
const getJob = async (jobId: string) => (await t.cloud.cloud.deps.db.entities.job.get({ jobId }).go()).data!;
const consume = () => deadLetterConsumer(() => t.cloud.cloud.deps);

describe("dead-letter consumer Lambda", () => {
  it("fails an ENCODING job whose ChunkReady EventBridge could not deliver, naming the queue; JobFailed", async () => {
    // arrange
    const jobId = await jobIn("ENCODING");
    const envelope: Envelope = envelopeOf("ChunkReady", { ...largestChunkReady(), jobId });
    const record = sqsRecord(queueArn("encode-chunk-dlq"), JSON.stringify(envelope), {
      RULE_ARN: "arn:aws:events:eu-west-1:123456789012:rule/videoforge-prod-EventBus/EncodeChunk",
      TARGET_ARN: "arn:aws:lambda:eu-west-1:123456789012:function:videoforge-prod-EncodeChunkLauncher",
      ERROR_CODE: "SDK_CLIENT_ERROR",
      ERROR_MESSAGE: "Unable to invoke Lambda function: Rate Exceeded.",
      EXHAUSTED_RETRY_CONDITION: "MaximumRetryAttempts",
      RETRY_ATTEMPTS: "2",
    });

    // act
    const res = await consume()({ Records: [record] });

    // assert: consumed, job failed with a reason a person can read, JobFailed on the bus
    expect(res).toEqual({ batchItemFailures: [] });
    const job = await getJob(jobId);
    expect(job.status).toBe("FAILED");
    expect(job.errorStage).toBe("encoding");
    expect(job.errorReason).toContain("dead-letter queue encode-chunk-dlq");
    expect(job.errorReason).toContain("Chunk 42 of 900 could not be encoded: 3 attempts failed");
    expect(job.errorReason).toContain("SDK_CLIENT_ERROR: Unable to invoke Lambda function: Rate Exceeded.");
    await t.cloud.cloud.bus.idle();
    const timeline = (await t.cloud.cloud.deps.db.entities.timeline.query.byJob({ jobId }).go()).data;
    expect(timeline.map((r) => r.type)).toContain("JobFailed");
  });

  it("reads Lambda's on-failure record (the event in requestPayload, the error in responsePayload)", async () => {
    const jobId = await jobIn("ASSEMBLING");
    const envelope = envelopeOf("VideoAssembled", { ...samples.VideoAssembled[0]!, jobId });
    const record = sqsRecord(
      queueArn("finish-job-dlq"),
      JSON.stringify({
        version: "1.0",
        timestamp: new Date().toISOString(),
        requestContext: {
          requestId: "c5d2e1f0",
          functionArn: "arn:aws:lambda:eu-west-1:123456789012:function:videoforge-prod-FinishJobHandler:$LATEST",
          condition: "RetriesExhausted",
          approximateInvokeCount: 3,
        },
        requestPayload: envelope,
        responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
        responsePayload: {
          errorType: "Error",
          errorMessage: "720p.mp4 has 1499 frames, expected 1500",
          trace: ["Error: 720p.mp4 …", "    at verify"],
        },
      }),
    );
    expect(await consume()({ Records: [record] })).toEqual({ batchItemFailures: [] });
    const job = await getJob(jobId);
    expect(job.status).toBe("FAILED");
    expect(job.errorStage).toBe("finishing");
    expect(job.errorReason).toContain(
      "The finishing step did not complete: 3 attempts failed " +
        "(last: Error: 720p.mp4 has 1499 frames, expected 1500 (RetriesExhausted))",
    );
    expect(job.errorReason).toContain("dead-letter queue finish-job-dlq");
  });

  it("changes nothing for a recorder dead letter: a lost timeline row does not make the video wrong", async () => {
    const jobId = await jobIn("ENCODING");
    const envelope = envelopeOf("ChunkEncoded", { ...samples.ChunkEncoded[0]!, jobId });
    const res = await consume()({
      Records: [
        sqsRecord(queueArn("record-timeline-dlq"), JSON.stringify(envelope), { ERROR_CODE: "SDK_CLIENT_ERROR" }),
      ],
    });
    expect(res).toEqual({ batchItemFailures: [] });
    const job = await getJob(jobId);
    expect({ status: job.status, reason: job.errorReason }).toEqual({ status: "ENCODING", reason: undefined });
  });

  it("reports a malformed body or unknown queue as batch item failures, still handling the rest", async () => {
    const jobId = await jobIn("ENCODING");
    const malformed = sqsRecord(queueArn("encode-chunk-dlq"), '{"version":"0","id":');
    const notAnEvent = sqsRecord(queueArn("encode-chunk-dlq"), JSON.stringify({ hello: "world" }));
    const strangeQueue = sqsRecord(
      `${ARN_PREFIX}some-other-queue`,
      JSON.stringify(envelopeOf("ChunkReady", { ...largestChunkReady(), jobId })),
    );
    const good = sqsRecord(
      queueArn("encode-chunk-dlq"),
      JSON.stringify(envelopeOf("ChunkReady", { ...largestChunkReady(), jobId })),
    );
    const lines: string[] = [];
    setLogSink((line) => lines.push(line));
    const res = await consume()({ Records: [malformed, notAnEvent, strangeQueue, good] }).finally(() =>
      setLogSink(() => {}),
    );
    expect(res.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([
      malformed.messageId,
      notAnEvent.messageId,
      strangeQueue.messageId,
    ]);
    expect((await getJob(jobId)).status).toBe("FAILED");
    // each one left in its queue is a DeadLetterErrors point, which the operators' alarm watches
    const points = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((d) => d.metric === "DeadLetterErrors");
    expect(points.map((d) => d.messageId)).toEqual([malformed.messageId, notAnEvent.messageId, strangeQueue.messageId]);
  });

  it("finds every rule from its queue's deployed name, even when a long stage name is cut", () => {
    const stage = "pr-4711-a-very-long-feature-branch-name-that-goes-on-and-on";
    for (const sub of topology) {
      const name = deadLetterQueueName("videoforge", stage, sub.deadLetter);
      expect(name.length, name).toBeLessThanOrEqual(80);
      expect(subscriptionOfQueue(ARN_PREFIX + name).name).toBe(sub.name);
    }
  });
});

setLogSink(() => {});
