import { afterAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { encodeChunkArgs, ffmpeg, ffmpegBinaries, fitLadder, parseLadder } from "@videoforge/core";
import { makeFixture } from "../fixtures.ts";
import { useTestCloud } from "../helpers/cloud.ts";
import { attack } from "./attack.ts";
import { aviWithEmbeddedPlaylist, manyBlocksMkv } from "./crafted.ts";

/**
 * Issue 12, hostile uploads through the whole pipeline: finding 2 (a packet flood that
 * crashed the host), 4 (playlists and references that made ffmpeg read other files or
 * addresses; a mutable source re-read), 5 (a picture size change mid-stream), 11 (internals in
 * failure reasons), the stream-count cap and the work budget, and the cases that were already
 * refused (kept refused). Every crafted file is made here, by ffmpeg or a byte generator.
 */

// a tight work budget for this cloud only: ordinary clips pass, a huge still picture does not
process.env.VIDEOFORGE_WORK_PIXELS_PER_BYTE = "3000";
process.env.VIDEOFORGE_MIN_WORK_PIXELS = "10000000";
const env = useTestCloud({ chunkSeconds: 2 });
afterAll(() => {
  delete process.env.VIDEOFORGE_WORK_PIXELS_PER_BYTE;
  delete process.env.VIDEOFORGE_MIN_WORK_PIXELS;
});

const run = promisify(execFile);
const ff = (args: string[]) =>
  run(ffmpegBinaries().ffmpeg, ["-hide_banner", "-nostdin", "-loglevel", "error", "-y", ...args], {
    maxBuffer: 64 * 1024 * 1024,
  });

/** What a failure reason may never show a user: paths, ports, addresses, presigned URLs. */
const INTERNALS = /\/tmp\/|\/etc\/|videoforge-test|127\.0\.0\.1|localhost|:\d{4,5}\b|X-Amz-|https?:\/\//;

/** Upload `file`, wait for the end, and return the failure reason (the job must have FAILED). */
async function failedReason(file: string): Promise<{ reason: string; stage: string | undefined; jobId: string }> {
  const view = await env.cloud.process(file);
  expect(view.job.status, JSON.stringify(view.job.error)).toBe("FAILED");
  const reason = view.job.error!.reason;
  expect(reason).not.toMatch(INTERNALS);
  return { reason, stage: view.job.error!.stage ?? undefined, jobId: view.job.jobId };
}

async function healthy(): Promise<void> {
  expect(await env.cloud.client.health()).toMatchObject({ ok: true });
}

const NOT_VIDEO = "The file is not a video format we can read. Upload a video file (MP4, MOV, MKV, WebM…).";

describe("finding 2: a packet flood cannot crash the host", () => {
  it(
    "an MKV whose header says 10 s, with 50,000 one-byte blocks after one real frame → " +
      "FAILED at chunking, the cloud keeps serving",
    async () => {
      await attack("packet flood (poison pill)", async () => {
        const { stdout: jpeg } = await run(
          ffmpegBinaries().ffmpeg,
          ["-v", "error", "-f", "lavfi", "-i", "color=red:s=64x48", "-frames:v", "1", "-f", "mjpeg", "-"],
          { encoding: "buffer" },
        );
        const file = join(env.dir, "flood.mkv");
        // 50,000 is 19 times what 10 s at 240 fps can hold; the original had 8.6 M and took the process down
        await manyBlocksMkv(file, jpeg, 50_000, 64, 48);
        const { reason, stage } = await failedReason(file);
        expect(stage).toBe("chunking");
        expect(reason).toBe(
          "The file holds far more frames than its running time allows; " +
            "it is damaged or crafted. Upload the original video.",
        );
        await healthy();
      });
    },
  );
});

describe("finding 4: ffmpeg reads only the validated container, and only where it should", () => {
  it.each([
    [
      "an HLS playlist named .mp4 pointing at a local video",
      async (dir: string) =>
        `#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nfile://${await makeFixture("tiny-2s", dir)}\n#EXT-X-ENDLIST\n`,
    ],
    [
      "an HLS playlist pointing at /etc/passwd",
      async () => "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n/etc/passwd\n#EXT-X-ENDLIST\n",
    ],
    [
      "an ffconcat list of /etc/passwd and a local video",
      async (dir: string) => `ffconcat version 1.0\nfile /etc/passwd\nfile ${await makeFixture("tiny-2s", dir)}\n`,
    ],
    [
      "an HLS playlist with a data: segment",
      async () => "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\ndata:video/mp2t;base64,R0lGODlh\n#EXT-X-ENDLIST\n",
    ],
    [
      "an HLS playlist with a subfile: segment",
      async () =>
        "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nsubfile,,start,0,end,0,,:/etc/passwd\n#EXT-X-ENDLIST\n",
    ],
    [
      "an HLS playlist of http segments on an internal port",
      async () => "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nhttp://127.0.0.1:9/ssrf.ts\n#EXT-X-ENDLIST\n",
    ],
    [
      "a subtitle file (SRT) naming a file",
      async () => '1\n00:00:00,000 --> 00:00:02,000\n<font src="file:///etc/passwd">x</font>\n',
    ],
    ["a WebVTT file", async () => "WEBVTT\n\n00:00.000 --> 00:02.000\nsee /etc/passwd\n"],
  ])("%s, uploaded as .mp4 → FAILED, not a video", async (what, body) => {
    await attack(`reference trick: ${what}`, async () => {
      const file = join(env.dir, `${what.replace(/\W+/g, "-")}.mp4`);
      await writeFile(file, await body(env.dir));
      const { reason, stage, jobId } = await failedReason(file);
      expect(stage).toBe("chunking");
      expect(reason).toBe(NOT_VIDEO);
      // nothing was made from what it pointed at
      expect(await env.cloud.cloud.deps.store.list(env.cloud.cloud.cfg.buckets.work, `jobs/${jobId}/`)).toEqual([]);
    });
  });

  it("an AVI whose subtitle stream embeds an HLS playlist naming /etc/passwd → FAILED, nothing read", async () => {
    await attack("AVI with an embedded playlist", async () => {
      const file = join(env.dir, "gab2.avi");
      await aviWithEmbeddedPlaylist(file, "file:///etc/passwd");
      const { reason, jobId } = await failedReason(file);
      expect(reason).toBe("The file has no video stream; upload a file with a video track.");
      expect(reason).not.toMatch(/root:/);
      expect(await env.cloud.cloud.deps.store.list(env.cloud.cloud.cfg.buckets.work, `jobs/${jobId}/`)).toEqual([]);
    });
  });

  it(
    "a playlist served where a validated source was read (the windows-mode re-read) reaches no internal port: " +
      "the encoder reads it as the probed container only",
    async () => {
      await attack("SSRF through a rewritten source read over HTTP", async () => {
        // arrange: an internal service that must never be called, and a "source" URL that now serves a playlist
        let internalHits = 0;
        const internal = createServer((_req, res) => {
          internalHits++;
          res.end();
        });
        const storage: Server = createServer((_req, res) => {
          res.writeHead(200, { "content-type": "application/vnd.apple.mpegurl" });
          const internalPort = (internal.address() as AddressInfo).port;
          res.end(
            "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n" +
              `http://127.0.0.1:${internalPort}/admin/delete-everything.ts\n#EXT-X-ENDLIST\n`,
          );
        });
        internal.listen(0, "127.0.0.1");
        storage.listen(0, "127.0.0.1");
        await Promise.all([once(internal, "listening"), once(storage, "listening")]);
        try {
          const storagePort = (storage.address() as AddressInfo).port;
          const url = `http://127.0.0.1:${storagePort}/uploads/jobs/x/source?X-Amz-Signature=0`;
          const renditions = fitLadder(parseLadder(["240p"]), 320, 240);
          const outputs = renditions.map((r) => ({ rendition: r, file: join(env.dir, `ssrf-${r.name}.ts`) }));
          const x264 = { preset: "ultrafast", crf: 30, gop: 50 };
          // act: the encoder's own arguments for a window of an MP4 source
          const guarded = encodeChunkArgs(
            url,
            outputs,
            x264,
            { rotation: 0, threads: 1, range: { start: 0 }, frames: 10, format: "mov", maxPixels: 9_437_184 },
            ffmpegBinaries(),
          );
          await expect(ffmpeg(guarded, { timeoutMs: 30_000 })).rejects.toThrow();
          expect(internalHits).toBe(0);
          // control: the same read as it was before the fix (no -f, no whitelist) does call the internal port
          const at = guarded.indexOf("-protocol_whitelist");
          const unguarded = [...guarded.slice(0, at), ...guarded.slice(guarded.indexOf("-i"))];
          await ffmpeg(unguarded, { timeoutMs: 30_000 }).catch(() => undefined);
          expect(internalHits).toBeGreaterThan(0);
        } finally {
          internal.close();
          storage.close();
        }
      });
    },
  );

  it(
    "a sparse-keyframe source (windows mode) is encoded from the chunker's validated copy, " +
      "not from the upload its owner can still write",
    async () => {
      await attack("validated source re-read from a mutable place", async () => {
        // one keyframe in 6 s with 2 s chunks (a piece over twice the target): planned as windows of the source itself
        const file = join(env.dir, "one-keyframe.mp4");
        await ff([
          "-f",
          "lavfi",
          "-i",
          "testsrc2=size=160x120:rate=15:duration=6",
          "-c:v",
          "libx264",
          "-preset",
          "ultrafast",
          "-g",
          "1000",
          "-keyint_min",
          "1000",
          "-sc_threshold",
          "0",
          file,
        ]);
        const view = await env.cloud.process(file, ["240p"]);
        expect(view.job.status).toBe("COMPLETED");
        const { cfg, deps } = env.cloud.cloud;
        // the copy exists only when the plan was windows, and it is what the encoders were sent to
        const copy = await deps.store.head(cfg.buckets.work, `jobs/${view.job.jobId}/source`);
        expect(copy?.size).toBe(view.job.size);
      });
    },
  );
});

describe("finding 5 and the limits on what is decoded", () => {
  it("a stream switching from 64x48 to 8192x4320 mid-stream → FAILED at first big frame, one attempt", async () => {
    await attack("resolution switch past the limit mid-stream", async () => {
      const small = join(env.dir, "small.ts");
      const big = join(env.dir, "big.ts");
      await ff([
        "-f",
        "lavfi",
        "-i",
        "color=black:s=64x48:r=10",
        "-t",
        "1",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-bsf:v",
        "h264_mp4toannexb",
        "-f",
        "mpegts",
        small,
      ]);
      await ff([
        "-f",
        "lavfi",
        "-i",
        "color=black:s=8192x4320:r=10",
        "-frames:v",
        "2",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-f",
        "mpegts",
        big,
      ]);
      const joined = join(env.dir, "switch.ts");
      const { readFile } = await import("node:fs/promises");
      await writeFile(joined, Buffer.concat([await readFile(small), await readFile(big)]));
      const file = join(env.dir, "switch.mkv");
      await ff(["-i", joined, "-c", "copy", file]);
      const started = Date.now();
      const { reason, jobId } = await failedReason(file);
      expect(reason).toMatch(/a picture in the video is larger than the limit/);
      expect(Date.now() - started).toBeLessThan(60_000);
      const view = await env.cloud.client.job(jobId);
      // refused for good on the first attempt: no retries of a picture that will be refused again
      expect(view.chunks.every((c) => (c.attempts ?? 0) <= 1)).toBe(true);
    });
  });

  it("a MOV with 41 streams → FAILED before any packet is read", async () => {
    await attack("hundreds of streams", async () => {
      const file = join(env.dir, "streams.mov");
      const maps = Array.from({ length: 40 }, () => ["-map", "1:a"]).flat();
      await ff([
        "-f",
        "lavfi",
        "-i",
        "color=black:s=64x48:r=10:d=0.5",
        "-f",
        "lavfi",
        "-i",
        "sine=d=0.5",
        "-map",
        "0:v",
        ...maps,
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-c:a",
        "aac",
        "-shortest",
        file,
      ]);
      const { reason } = await failedReason(file);
      expect(reason).toBe(
        "The file has 41 streams; we accept at most 32. Keep the video and the audio you need, and upload it again.",
      );
    });
  });

  it("a declared 8192x4608 picture → FAILED from the header (regression)", async () => {
    await attack("declared 8192x4608 header", async () => {
      const file = join(env.dir, "huge.mp4");
      await ff([
        "-f",
        "lavfi",
        "-i",
        "color=black:s=8192x4608:r=1",
        "-frames:v",
        "1",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        file,
      ]);
      const { reason } = await failedReason(file);
      expect(reason).toMatch(/^The video is 8192x4608; the largest picture we process is 4096x2304/);
    });
  });

  it("many frames of a large, almost empty picture → FAILED on the work budget for the file's size", async () => {
    await attack("work budget: tiny bytes, huge decode", async () => {
      const file = join(env.dir, "budget.mp4");
      await ff([
        "-f",
        "lavfi",
        "-i",
        "color=black:s=1280x720:r=25",
        "-frames:v",
        "250",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-g",
        "250",
        file,
      ]);
      const { reason } = await failedReason(file);
      expect(reason).toMatch(
        new RegExp(
          "^The video is 250 frames of 1280x720 \\(0\\.2 gigapixels\\) in only [\\d.]+ KiB; " +
            "the most we decode for a file of that size is",
        ),
      );
    });
  });
});
