import { describe, expect, it } from "vitest";
import { basename, join } from "node:path";
import { mkdir, writeFile } from "node:fs/promises";
import { decodeCheck } from "@videoforge/core";
import type { RungName } from "@videoforge/core/contract";
import { makeFixture, type FixtureName } from "./fixtures.ts";
import { useTestCloud } from "./helpers/cloud.ts";
import { decodedVideo, download, packetSpan, streamSpans } from "./helpers/media.ts";

/**
 * Every supported kind of source goes through the whole event-driven pipeline
 * (API upload → chunker → encoder tasks → tracker → assembler → finisher) and each
 * output is checked by decoding it: exact frame count, duration, audio sync, sizes.
 */
const env = useTestCloud({ chunkSeconds: 2 });

interface Case {
  fixture: FixtureName;
  ladder?: RungName[];
  /** Rungs expected as `name:WxH`. */
  expect: string[];
  minChunks: number;
  /** HLS packaging when not the default CMAF. */
  packaging?: "ts";
}

const cases: Case[] = [
  {
    fixture: "h264-1080p-bframes-audio",
    expect: ["1080p:1920x1080", "720p:1280x720", "480p:854x480", "360p:640x360"],
    minChunks: 2,
  },
  { fixture: "h264-noaudio", ladder: ["720p", "360p"], expect: ["720p:1280x720", "360p:640x360"], minChunks: 2 },
  { fixture: "h264-single-keyframe", expect: ["360p:640x360"], minChunks: 1 },
  // streamed as MPEG-TS HLS (the option for old players): no DASH, the same frames
  {
    fixture: "h264-vfr",
    ladder: ["360p", "240p"],
    expect: ["360p:640x360", "240p:426x240"],
    minChunks: 2,
    packaging: "ts",
  },
  // an edit list hides the head of the first GOP: only the frames it shows are encoded
  { fixture: "h264-trimmed", ladder: ["240p"], expect: ["240p:320x240"], minChunks: 2 },
  {
    fixture: "h264-odd-1918x1078",
    ladder: ["1080p", "360p"],
    expect: ["1078p:1918x1078", "360p:640x360"],
    minChunks: 2,
  },
  { fixture: "h264-rotated", ladder: ["720p", "360p"], expect: ["720p:720x1280", "360p:360x640"], minChunks: 2 },
  { fixture: "hevc-10bit", ladder: ["720p", "360p"], expect: ["720p:1280x720", "360p:640x360"], minChunks: 2 },
  { fixture: "vp8-vorbis-webm", ladder: ["360p"], expect: ["360p:640x360"], minChunks: 2 },
];

const apiGet = async (path: string) => {
  const res = await fetch(`${env.cloud.api.url}${path}`, { headers: { authorization: `Bearer ${env.cloud.token}` } });
  return { status: res.status, text: await res.text() };
};

/** Polls the job until it is playable but not done; then its master and top rung's playlists, as a player gets them. */
async function watchPreview(jobId: string) {
  for (;;) {
    const { job } = await env.cloud.client.job(jobId);
    if (job.status === "COMPLETED" || job.status === "FAILED") return { status: job.status, master: "", media: "" };
    if (job.playable) {
      const master = await apiGet(`/jobs/${jobId}/hls/master.m3u8`);
      const first = master.text.split("\n").find((l) => l.endsWith("preview.m3u8")) ?? "";
      const media = await apiGet(new URL(first, `${env.cloud.api.url}/jobs/${jobId}/hls/`).pathname);
      return { status: job.status, master: master.text, media: media.text };
    }
    await new Promise((r) => setTimeout(r, 40));
  }
}

/** One preview playlist (a rung's, or `audio`) with its segments fetched by their presigned URLs, into a folder. */
async function fetchPreview(jobId: string, rendition: string) {
  const { status, text } = await apiGet(`/jobs/${jobId}/hls/${rendition}/preview.m3u8`);
  expect(status).toBe(200);
  expect(text).toContain("#EXT-X-ENDLIST");
  const local = join(env.dir, `${jobId}-preview-${rendition}`);
  await mkdir(local, { recursive: true });
  let n = 0;
  const lines: string[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("http")) {
      lines.push(line);
      continue;
    }
    const name = `${String(n++).padStart(5, "0")}.ts`;
    await download(line, join(local, name));
    lines.push(name);
  }
  await writeFile(join(local, "preview.m3u8"), lines.join("\n"));
  // read without decodeCheck's -xerror: each chunk restarts MPEG-TS continuity counters, which players ignore
  return join(local, "preview.m3u8");
}

describe("pipeline on real sources", () => {
  it.each(cases)(
    "$fixture → frame-exact renditions",
    async (c) => {
      const { cloud, dir } = env;
      // arrange
      const source = await makeFixture(c.fixture, dir);
      const src = await decodedVideo(source);
      const srcSpans = await streamSpans(source);
      // "within one frame": the longest interval between two frames of this source
      const frameTime = Math.max(srcSpans.video.lastFrame, (srcSpans.video.end - srcSpans.video.start) / src.frames);

      // act
      const { jobId } = await cloud.client.upload(source, c.ladder, c.packaging ? { packaging: c.packaging } : {});
      const early = c.fixture === "h264-1080p-bframes-audio" ? watchPreview(jobId) : null;
      const view = await cloud.waitForEnd(jobId);

      // assert: the job, its chunks and its timeline
      expect(view.job.error).toBeNull();
      expect(view.job.status).toBe("COMPLETED");
      expect(view.chunks.length).toBeGreaterThanOrEqual(c.minChunks);
      expect(view.chunks.every((ch) => ch.status === "ENCODED")).toBe(true);
      expect(view.chunks.reduce((n, ch) => n + ch.frames, 0)).toBe(src.frames);
      const types = view.timeline.map((t) => t.type);
      for (const t of [
        "VideoUploaded",
        "ChunkReady",
        "ChunkEncoded",
        "ChunksEncoded",
        "VideoAssembled",
        "JobCompleted",
      ])
        expect(types).toContain(t);
      expect(types.filter((t) => t === "ChunkReady")).toHaveLength(view.chunks.length);
      // progressive publish: playable (from the first chunk) before the set was whole, and before completion
      expect(types.filter((t) => t === "PlaybackReady")).toHaveLength(1);
      expect(types.indexOf("PlaybackReady")).toBeLessThan(types.indexOf("ChunksEncoded"));
      expect(view.job.playable).toBe(true);
      expect(view.job.timings.playable).toBeLessThan(view.job.timings.completed!);
      if (early) {
        // seen while the job was still working: the master was the preview's, its playlists growing EVENTs
        const seen = await early;
        expect(seen.status).not.toBe("COMPLETED");
        expect(seen.master).toContain(`${c.expect[0]!.split(":")[0]}/preview.m3u8`);
        expect(seen.media).toContain("#EXT-X-PLAYLIST-TYPE:EVENT");
        expect(seen.master).toContain(`TYPE=AUDIO,GROUP-ID="audio"`);
      }
      expect(types.filter((t) => t === "VideoAssembled")).toHaveLength(1);

      // assert: every output, downloaded through its presigned URL and decoded
      const outputs = await cloud.client.outputs(view.job.jobId);
      expect(
        outputs.outputs.map((o) => {
          const { width, height } = o as unknown as { width: number; height: number };
          return `${o.rendition}:${width}x${height}`;
        }),
      ).toEqual(c.expect);
      for (const o of outputs.outputs) {
        const file = join(dir, `${view.job.jobId}-${o.rendition}.mp4`);
        expect(await download(o.url, file)).toBe(o.bytes);
        const out = await decodedVideo(file);
        expect(out.frames, `${o.rendition} frames`).toBe(src.frames);
        expect((out.width % 2) + (out.height % 2)).toBe(0);
        expect(out.rotation).toBe(0);
        const spans = await streamSpans(file, srcSpans.video.lastFrame);
        const duration = spans.video.end - spans.video.start;
        expect(
          Math.abs(duration - (srcSpans.video.end - srcSpans.video.start)),
          `${o.rendition} duration`,
        ).toBeLessThanOrEqual(frameTime + 1e-3);
        if (srcSpans.audio) {
          expect(spans.audio, `${o.rendition} audio`).not.toBeNull();
          // as in the source: an edit list may end its video before its audio (ffmpeg 4.1's VFR MP4s do)
          const sourceGap = srcSpans.audio.end - srcSpans.video.end;
          expect(
            Math.abs(spans.audio!.end - spans.video.end - sourceGap),
            `${o.rendition} audio end vs video end`,
          ).toBeLessThanOrEqual(0.05);
        } else {
          expect(spans.audio).toBeNull();
        }
      }
      // the preview (still served to players already on it) is every frame of the source, chunk after chunk,
      // and its sound lines up with its pictures as the checked output's does
      const previewVideo = await fetchPreview(jobId, c.expect.at(-1)!.split(":")[0]!);
      expect((await decodedVideo(previewVideo)).frames).toBe(src.frames);
      if (srcSpans.audio) {
        const output = await streamSpans(join(dir, `${jobId}-${outputs.outputs[0]!.rendition}.mp4`), frameTime);
        const v = await streamSpans(previewVideo, frameTime);
        const a = (await packetSpan(await fetchPreview(jobId, "audio"), "a:0", 0))!;
        expect(a, "the preview's sound").not.toBeNull();
        expect(Math.abs(a.start - v.video.start - (output.audio!.start - output.video.start))).toBeLessThan(0.03);
        expect(Math.abs(a.end - v.video.end - (output.audio!.end - output.video.end))).toBeLessThan(0.05);
      }

      // the HLS ladder: master names every rung, each media playlist is reachable
      expect(outputs.hls).toBeTruthy();
      const master = await (await fetch(outputs.hls!)).text();
      for (const o of outputs.outputs) expect(master).toContain(`${o.rendition}/index.m3u8`);
      const stored = await cloud.cloud.deps.store.list(cloud.cloud.cfg.buckets.outputs, `jobs/${view.job.jobId}/hls/`);
      const segment = c.packaging === "ts" ? ".ts" : ".m4s";
      for (const o of outputs.outputs) {
        expect(stored.some((s) => s.key.endsWith(`${o.rendition}/index.m3u8`))).toBe(true);
        const segments = stored.filter((s) => s.key.includes(`/${o.rendition}/seg_`));
        expect(segments.length).toBeGreaterThan(0);
        expect(
          segments.every((s) => s.key.endsWith(segment)),
          `${o.rendition} segments are ${segment}`,
        ).toBe(true);
      }
      expect(outputs.dash === null).toBe(c.packaging === "ts");
      if (c.packaging === "ts") {
        // a TS player's view: the top rung's stored playlist and segments decode to every frame, with sound
        const rung = outputs.outputs[0]!.rendition;
        const local = join(dir, `${jobId}-ts`, rung);
        await mkdir(local, { recursive: true });
        for (const s of stored.filter((s) => s.key.includes(`/hls/${rung}/`)))
          await cloud.cloud.deps.store.download(cloud.cloud.cfg.buckets.outputs, s.key, join(local, basename(s.key)));
        const decoded = await decodeCheck(cloud.cloud.deps.ffmpeg, join(local, "index.m3u8"), 60_000, "hls");
        expect(decoded).toEqual({ ok: true, frames: src.frames });
        const first = stored.find((s) => s.key.includes(`/hls/${rung}/seg_`))!;
        expect((await streamSpans(join(local, basename(first.key)))).audio).not.toBeNull();
      }
      expect(outputs.poster).toBeTruthy();
    },
    240_000,
  );
});
