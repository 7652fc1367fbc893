import { afterAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { AUDIO_WORK_PER_SECOND, chargeDailyWork, createClients, ffmpegBinaries } from "@videoforge/core";
import { SOURCE } from "@videoforge/events";
import type { DeadLetter } from "@videoforge/local/bus";
import { ffmpegBin, makeFixture } from "../fixtures.ts";
import { useTestCloud } from "../helpers/cloud.ts";
import { download } from "../helpers/media.ts";
import { signedHeaders } from "../security/sign.ts";
import { tally } from "./tally.ts";

/**
 * Issue #5, bad input: every kind of bad request, source or event gets a clear error (HTTP 4xx
 * with {error: {code, message}}, or a FAILED job with a reason a person can act on), and after
 * all of them a good job still completes.
 */

// a low per-user limit so the test reaches it with a few uploads; read when the cloud starts
const ACTIVE_JOBS_LIMIT = 3;
const previousLimit = process.env.VIDEOFORGE_MAX_ACTIVE_JOBS_PER_USER;
process.env.VIDEOFORGE_MAX_ACTIVE_JOBS_PER_USER = String(ACTIVE_JOBS_LIMIT);
const env = useTestCloud();
afterAll(() => {
  if (previousLimit === undefined) delete process.env.VIDEOFORGE_MAX_ACTIVE_JOBS_PER_USER;
  else process.env.VIDEOFORGE_MAX_ACTIVE_JOBS_PER_USER = previousLimit;
});

interface Reply {
  status: number;
  body: unknown;
  text: string;
}

/** A raw API call: the body goes out exactly as given (strings verbatim, for malformed JSON). */
async function api(method: string, path: string, body?: unknown): Promise<Reply> {
  // the test cloud's bearer token, once the API has one
  const token = (env.cloud as { token?: string }).token;
  const res = await fetch(new URL(path, env.cloud.api.url), {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  return { status: res.status, body: parsed, text };
}

/** The reply is exactly `{error: {code, message}}` with this status and code, and the message says `fragment`. */
function expectError(reply: Reply, status: number, code: string, fragment: RegExp | string): void {
  expect(reply.status, reply.text).toBe(status);
  expect(reply.body).toEqual({ error: { code, message: expect.any(String) } });
  expect((reply.body as { error: { message: string } }).error.message).toMatch(fragment);
}

const ffmpeg = promisify(execFile);
/** Media made on the spot with ffmpeg's lavfi sources; each takes well under a second. */
async function generate(name: string, args: string[]): Promise<string> {
  const file = join(env.dir, name);
  await ffmpeg(ffmpegBin, ["-hide_banner", "-nostdin", "-loglevel", "error", "-y", ...args, file]);
  return file;
}

/** Upload `file` through the API and wait for its job to end; it must have FAILED at chunking. */
async function failedJob(file: string) {
  const { cloud } = env;
  const { jobId } = await cloud.client.upload(file, ["240p"]);
  const view = await cloud.waitForEnd(jobId, 60_000);
  expect(view.job.status).toBe("FAILED");
  expect(view.job.error?.stage).toBe("chunking");
  // refused before any chunk was planned, and the person sees the same reason in the timeline
  expect(view.job.chunkCount).toBeNull();
  expect(view.timeline.map((t) => t.type)).not.toContain("ChunkReady");
  expect(view.timeline.filter((t) => t.type === "JobFailed").map((t) => t.detail.reason)).toEqual([
    view.job.error?.reason,
  ]);
  return view.job.error!.reason;
}

/** Dead letters whose event names `jobId`, once the bus has stopped delivering. */
async function deadLettersFor(jobId: string): Promise<DeadLetter[]> {
  await env.cloud.cloud.bus.idle();
  const letters = await env.cloud.cloud.dlq.list();
  return letters
    .filter((l) => (l.envelope.detail as { jobId?: string } | null)?.jobId === jobId)
    .sort((a, b) => a.subscription.localeCompare(b.subscription));
}

/** A PutEvents call through the real EventBridge client, against the local cloud's endpoint. */
function putEvents(entries: { Source: string; DetailType: string; Detail: string }[]) {
  const { events } = createClients(env.cloud.cloud.cfg);
  return events.send(
    new PutEventsCommand({ Entries: entries.map((e) => ({ ...e, EventBusName: env.cloud.cloud.cfg.busName })) }),
  );
}

const now = () => new Date().toISOString();

describe("bad requests get a 4xx with {error: {code, message}}", () => {
  it("a zero-byte file is refused at POST /uploads", async () => {
    expectError(
      await api("POST", "/uploads", { name: "empty.mp4", size: 0 }),
      400,
      "invalid_request",
      "size must be at least 1 byte: an empty file is not a video",
    );
    tally("badInput", "zero-byte upload");
  });

  it("a file name with a path separator is refused", async () => {
    expectError(
      await api("POST", "/uploads", { name: "../../etc/clip.mp4", size: 1000 }),
      400,
      "invalid_request",
      "name must be a plain file name: no path separators (/ or \\) and no control characters",
    );
    tally("badInput", "file name with path separators");
  });

  it("a file name with control characters is refused", async () => {
    expectError(
      await api("POST", "/uploads", { name: "clip\r\n\u0007.mp4", size: 1000 }),
      400,
      "invalid_request",
      /no control characters/,
    );
    tally("badInput", "file name with control characters");
  });

  it("a ladder rung that does not exist is refused with the list of valid rungs", async () => {
    expectError(
      await api("POST", "/uploads", { name: "clip.mp4", size: 1000, ladder: ["720p", "4320p"] }),
      400,
      "invalid_request",
      'Unknown rung "4320p"; choose from 2160p, 1440p, 1080p, 720p, 480p, 360p, 240p.',
    );
    tally("badInput", "unknown ladder rung");
  });

  it("a malformed JSON body is refused", async () => {
    expectError(
      await api("POST", "/uploads", '{"name": "clip.mp4", "size": 10'),
      400,
      "invalid_json",
      "The request body is not valid JSON.",
    );
    tally("badInput", "malformed JSON body");
  });

  it("an oversized body is refused", async () => {
    const reply = await api(
      "POST",
      "/uploads",
      JSON.stringify({ name: "clip.mp4", size: 1000, contentType: "x".repeat(2 * 1024 * 1024) }),
    );
    expectError(reply, 413, "body_too_large", /too large/);
    tally("badInput", "oversized body");
  });

  it("a file over the upload limit is refused with the limit in words", async () => {
    const size = 60 * 1024 ** 3;
    expectError(
      await api("POST", "/uploads", { name: "huge.mov", size }),
      400,
      "invalid_request",
      "size must be at most 50 GiB (53,687,091,200 bytes); this file is 60 GiB (64,424,509,440 bytes).",
    );
    tally("badInput", "upload over the size limit");
  });

  it("more active jobs than the per-user limit is 429 until one ends", async () => {
    // arrange: uploads that are started and never finished count as jobs in progress
    const started: string[] = [];
    for (let i = 0; i < ACTIVE_JOBS_LIMIT; i++) {
      const reply = await api("POST", "/uploads", { name: `pending-${i}.mp4`, size: 1000 });
      expect(reply.status, reply.text).toBe(201);
      started.push((reply.body as { jobId: string }).jobId);
    }

    // act + assert: one more is refused, and nothing was created for it
    const jobsBefore = ((await api("GET", "/jobs")).body as { jobs: unknown[] }).jobs.length;
    expectError(
      await api("POST", "/uploads", { name: "one-too-many.mp4", size: 1000 }),
      429,
      "too_many_jobs",
      `You have ${ACTIVE_JOBS_LIMIT} jobs in progress; the limit is ${ACTIVE_JOBS_LIMIT}. ` +
        "Wait for one to finish or cancel one.",
    );
    expect(((await api("GET", "/jobs")).body as { jobs: unknown[] }).jobs.length).toBe(jobsBefore);

    // cancelling one makes room again
    expect((await api("DELETE", `/jobs/${started[0]}`)).status).toBe(202);
    const again = await api("POST", "/uploads", { name: "now-it-fits.mp4", size: 1000 });
    expect(again.status, again.text).toBe(201);
    for (const jobId of [...started.slice(1), (again.body as { jobId: string }).jobId])
      expect((await api("DELETE", `/jobs/${jobId}`)).status).toBe(202);
    tally("badInput", "too many active jobs");
  });
});

describe("bad sources end FAILED with a reason a person can act on", () => {
  it("a text file", async () => {
    expect(await failedJob(await makeFixture("bad-text", env.dir))).toMatch(
      /^The file is not a video format we can read\. Upload a video file/,
    );
    tally("badInput", "text file");
  });

  it("a truncated MP4", async () => {
    expect(await failedJob(await makeFixture("bad-truncated", env.dir))).toMatch(
      /^The file looks truncated or incomplete .* Upload the complete file\.$/,
    );
    tally("badInput", "truncated MP4");
  });

  it("a PNG image", async () => {
    const png = await generate("poster.png", ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=1", "-frames:v", "1"]);
    expect(await failedJob(png)).toBe(
      "This is a still image (PNG), not a video. Upload a video file (MP4, MOV, MKV, WebM…).",
    );
    tally("badInput", "still image (PNG)");
  });

  it("a JPEG image", async () => {
    const jpeg = await generate("photo.jpg", ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=1", "-frames:v", "1"]);
    expect(await failedJob(jpeg)).toBe(
      "This is a still image (JPEG), not a video. Upload a video file (MP4, MOV, MKV, WebM…).",
    );
    tally("badInput", "still image (JPEG)");
  });

  it("audio only: refused for video formats, saying what works; made when only audio formats are chosen", async () => {
    const m4a = await generate("song.m4a", [
      "-f",
      "lavfi",
      "-i",
      "sine=frequency=440:sample_rate=48000:duration=2",
      "-c:a",
      "aac",
    ]);
    expect(await failedJob(m4a)).toBe(
      "The file has audio but no video stream; upload a file with a video track, " +
        "or choose only audio formats (m4a, mp3) for its sound.",
    );
    tally("badInput", "audio only");

    // the same file, audio formats only: an audio-only job, no chunks, no stream, no poster
    const { cloud } = env;
    const { jobId } = await cloud.client.upload(m4a, undefined, { formats: ["mp3"], loudness: -16 });
    const view = await cloud.waitForEnd(jobId, 60_000);
    expect(view.job.error).toBeNull();
    expect(view.job).toMatchObject({ status: "COMPLETED", chunkCount: 0, outputs: [], hls: null, poster: null });
    expect(view.job.source?.duration).toBeCloseTo(2, 1);
    const links = await cloud.client.outputs(jobId);
    expect(links.audio.map((a) => [a.format, a.key.split("/").at(-1)])).toEqual([["mp3", "audio.mp3"]]);
    expect(Math.abs(links.audio[0]!.duration - 2)).toBeLessThanOrEqual(0.15);
    const mp3 = await fetch(links.audio[0]!.url);
    expect(mp3.status).toBe(200);
    // an MP3 frame header (or an ID3 tag) first: the bytes are what the name says
    expect(
      Buffer.from(await mp3.arrayBuffer())
        .subarray(0, 3)
        .toString("latin1"),
    ).toMatch(/^(ID3|\xff[\xe0-\xff])/);
    expect(view.timeline.map((t) => t.type)).toEqual(
      expect.arrayContaining(["VideoUploaded", "ChunksEncoded", "VideoAssembled", "JobCompleted"]),
    );
    expect(view.timeline.map((t) => t.type)).not.toContain("ChunkReady");
  });

  it("audio only: a header that declares 2 s of 60 s of sound gets 2 s encoded, not 60", async () => {
    const long = await generate("long.mka", [
      "-f",
      "lavfi",
      "-i",
      "sine=frequency=440:sample_rate=48000:duration=60",
      "-c:a",
      "aac",
      "-b:a",
      "32k",
    ]);
    // Matroska's Duration element (0x4489, an 8-byte float of milliseconds), rewritten to say 2 s
    const bytes = await readFile(long);
    const at = bytes.indexOf(Buffer.from([0x44, 0x89, 0x88]));
    expect(at).toBeGreaterThan(0);
    bytes.writeDoubleBE(2000, at + 3);
    const liar = join(env.dir, "liar.mka");
    await writeFile(liar, bytes);

    const { cloud } = env;
    const { jobId } = await cloud.client.upload(liar, undefined, { formats: ["m4a"] });
    const view = await cloud.waitForEnd(jobId, 60_000);
    expect(view.job.status, view.job.error?.reason).toBe("COMPLETED");
    expect(view.job.source?.duration).toBeCloseTo(2, 1);
    // the work checked and charged was 2 s: the encode stopped there, and the output is verified as 2 s
    const links = await cloud.client.outputs(jobId);
    expect(links.audio[0]!.duration).toBeCloseTo(2, 1);
    const file = join(env.dir, "liar-out.m4a");
    await download(links.audio[0]!.url, file);
    const { stdout } = await ffmpeg(ffmpegBinaries().ffprobe, [
      ...["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", file],
    ]);
    expect(Number(stdout)).toBeCloseTo(2, 1);
    // and charged to the owner's day, for the 2 s: a second charge of the same job (a redelivery) adds nothing
    const { deps } = cloud.cloud;
    const owner = (await deps.jobs.getJob(jobId))!.owner;
    const day = { owner, kind: "work" as const, period: new Date().toISOString().slice(0, 10) };
    const used = await deps.jobs.counted(day);
    expect(used).toBeGreaterThanOrEqual(2 * AUDIO_WORK_PER_SECOND);
    expect(await chargeDailyWork(deps, owner, jobId, 2 * AUDIO_WORK_PER_SECOND)).toBe(true);
    expect(await deps.jobs.counted(day)).toBe(used);
    tally("badInput", "audio header understating its length");
  });

  it("a declared 16384x16384 picture, refused from the header", async () => {
    // a YUV4MPEG header declaring the size, then 4 KiB of a frame that would need 400 MB
    const huge = join(env.dir, "huge.y4m");
    await writeFile(
      huge,
      Buffer.concat([Buffer.from("YUV4MPEG2 W16384 H16384 F25:1 Ip A1:1 C420jpeg\nFRAME\n"), Buffer.alloc(4096)]),
    );
    const started = Date.now();
    expect(await failedJob(huge)).toBe(
      "The video is 16384x16384; the largest picture we process is 4096x2304 (9.4 megapixels), " +
        "at most 8192 pixels on a side. Scale it down and upload it again.",
    );
    expect(Date.now() - started).toBeLessThan(15_000);
    tally("badInput", "declared resolution 16384x16384");
  });

  it("a declared 8192x8192 picture (one ffmpeg itself would read), refused before any packet is listed", async () => {
    const big = join(env.dir, "big.y4m");
    await writeFile(
      big,
      Buffer.concat([Buffer.from("YUV4MPEG2 W8192 H8192 F25:1 Ip A1:1 C420jpeg\nFRAME\n"), Buffer.alloc(4096)]),
    );
    expect(await failedJob(big)).toMatch(/^The video is 8192x8192; the largest picture we process is 4096x2304/);
    tally("badInput", "declared resolution 8192x8192");
  });

  it("hours of video in a few kilobytes", async () => {
    // three frames 10,000 s apart: 8 h 20 min in about 1.5 KB
    const long = await generate("long.mp4", [
      "-f",
      "lavfi",
      "-i",
      "color=c=black:s=64x64:r=1/10000:d=30000",
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      "-pix_fmt",
      "yuv420p",
    ]);
    expect(await failedJob(long)).toBe(
      "The video lasts 8 h 20 min; the limit is 6 h. Cut it into shorter parts and upload them one by one.",
    );
    tally("badInput", "very long duration, tiny file");
  });
});

describe("bad events neither crash nor wedge the bus", () => {
  it("an unknown detail-type is refused by the PutEvents endpoint, entry by entry", async () => {
    const res = await putEvents([
      {
        Source: SOURCE,
        DetailType: "VideoExploded",
        Detail: JSON.stringify({ version: 1, jobId: "exploded01", occurredAt: now() }),
      },
      // another source's event is not ours to judge: accepted, as EventBridge would
      { Source: "aws.s3", DetailType: "Object Created", Detail: JSON.stringify({ bucket: { name: "b" } }) },
    ]);
    expect(res.FailedEntryCount).toBe(1);
    expect(res.Entries?.[0]).toEqual({
      ErrorCode: "UnknownDetailType",
      ErrorMessage: expect.stringMatching(
        /^unknown detail-type "VideoExploded" for source "videoforge"; known: VideoUploaded, ChunkReady,/,
      ),
    });
    expect(res.Entries?.[1]?.EventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await deadLettersFor("exploded01")).toEqual([]);
    tally("badInput", "unknown detail-type at PutEvents");
  });

  it("a detail that fails its schema is refused by the PutEvents endpoint, naming the field", async () => {
    const res = await putEvents([
      {
        Source: SOURCE,
        DetailType: "JobCancelled",
        Detail: JSON.stringify({ version: 1, jobId: "nobody0001", occurredAt: now() }),
      },
    ]);
    expect(res.FailedEntryCount).toBe(1);
    expect(res.Entries?.[0]?.ErrorCode).toBe("InvalidDetail");
    expect(res.Entries?.[0]?.ErrorMessage).toMatch(/^JobCancelled detail is invalid: [\s\S]*→ at by/);
    expect(await deadLettersFor("nobody0001")).toEqual([]);
    tally("badInput", "detail failing its schema at PutEvents");
  });

  it("a malformed PutEvents request is a 400 from the endpoint, which keeps answering", async () => {
    const endpoint = env.cloud.cloud.env.VIDEOFORGE_EVENTS_ENDPOINT!;
    const post = async (body: string) => {
      // signed like the local cloud's own processes sign (issue 12: the endpoint refuses anything else)
      const headers = signedHeaders(
        endpoint,
        body,
        { "content-type": "application/x-amz-json-1.1", "x-amz-target": "AWSEvents.PutEvents" },
        env.cloud.cloud.cfg.credentials!,
      );
      const res = await fetch(endpoint, { method: "POST", headers, body });
      return { status: res.status, body: (await res.json()) as { __type: string; message: string } };
    };
    for (const body of [
      "null",
      '{"Entries": 5}',
      '{"Entries": [{"Source": 7}]}',
      JSON.stringify({ Entries: Array.from({ length: 11 }, () => ({ Source: "x" })) }),
    ]) {
      const reply = await post(body);
      expect(reply.status, body).toBe(400);
      expect(reply.body.__type, body).toBe("ValidationException");
      expect(reply.body.message, body).toMatch(/^Entries must hold 1 to 10 entries with string fields/);
    }
    const tooBig = await post(
      JSON.stringify({
        Entries: [{ Source: "x", DetailType: "y", Detail: JSON.stringify({ pad: "x".repeat(300 * 1024) }) }],
      }),
    );
    expect(tooBig).toMatchObject({
      status: 400,
      body: { __type: "ValidationException", message: expect.stringMatching(/PutEvents takes at most 262144/) },
    });
    // still answering, and still delivering
    const ok = await putEvents([{ Source: "aws.s3", DetailType: "Object Created", Detail: "{}" }]);
    expect(ok.FailedEntryCount).toBe(0);
    tally("badInput", "malformed PutEvents request");
  });

  it("a bad detail put on the bus directly is dead-lettered at once by every matching rule, with reason", async () => {
    const { bus } = env.cloud.cloud;
    // arrange: a VideoUploaded without owner or version, routed like a small source
    const detail = {
      jobId: "schemafail01",
      occurredAt: now(),
      source: { bucket: "b", key: "k", size: 10, megabytes: 1, name: "a.mp4" },
      ladder: ["240p"],
    };

    // act: EventBridge accepts anything; the targets must refuse it for good
    const put = bus.putEvents([{ Source: SOURCE, DetailType: "VideoUploaded", Detail: JSON.stringify(detail) }]);
    expect(put.FailedEntryCount).toBe(0);
    const letters = await deadLettersFor("schemafail01");

    // assert: the chunker (lambda) and the recorder, one attempt each, the zod issues in the reason
    expect(letters.map((l) => [l.subscription, l.attempts])).toEqual([
      ["chunk-small-source", 1],
      ["record-timeline", 1],
    ]);
    for (const l of letters) {
      expect(l.error).toMatch(/^VideoUploaded detail is invalid: /);
      expect(l.error).toMatch(/→ at owner/);
      expect(l.error).toMatch(/→ at version/);
    }
    tally("badInput", "detail failing its schema on the bus");
  });

  it("a bad detail for a task-runtime rule is dead-lettered at once, without starting a task per retry", async () => {
    const { bus } = env.cloud.cloud;
    const detail = { version: 1, jobId: "schemafail02", occurredAt: now(), chunk: { index: 0, count: 1 } };
    bus.putEvents([{ Source: SOURCE, DetailType: "ChunkReady", Detail: JSON.stringify(detail) }]);
    const letters = await deadLettersFor("schemafail02");
    expect(letters.map((l) => [l.subscription, l.attempts])).toEqual([
      ["encode-chunk", 1],
      ["record-timeline", 1],
    ]);
    expect(letters[0]!.error).toMatch(/^ChunkReady detail is invalid: [\s\S]*→ at renditions/);
    tally("badInput", "task event failing its schema on the bus");
  });

  it("an unknown detail-type put on the bus directly is dead-lettered at once by the catch-all recorder", async () => {
    const { bus } = env.cloud.cloud;
    bus.putEvents([
      {
        Source: SOURCE,
        DetailType: "VideoExploded",
        Detail: JSON.stringify({ version: 1, jobId: "exploded02", occurredAt: now() }),
      },
    ]);
    const letters = await deadLettersFor("exploded02");
    expect(letters.map((l) => [l.subscription, l.attempts, l.error])).toEqual([
      ["record-timeline", 1, 'unknown detail-type "VideoExploded"'],
    ]);
    tally("badInput", "unknown detail-type on the bus");
  });
});

describe("after all of that", () => {
  it("a good clip still completes and nothing else was dead-lettered", async () => {
    const { cloud } = env;
    const view = await cloud.process(await makeFixture("tiny-2s", env.dir), ["240p"]);
    expect(view.job.status).toBe("COMPLETED");
    expect(view.job.error).toBeNull();
    expect(view.job.outputs).toHaveLength(1);
    // only the three events the bus tests handed over directly: five letters
    const letters = await cloud.cloud.dlq.list();
    expect(letters.map((l) => (l.envelope.detail as { jobId: string }).jobId).sort()).toEqual([
      "exploded02",
      "schemafail01",
      "schemafail01",
      "schemafail02",
      "schemafail02",
    ]);
    expect((await cloud.client.health()).ok).toBe(true);
    tally("jobCompleted", "after bad inputs");
  });
});
