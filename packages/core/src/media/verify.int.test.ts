import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeCheckArgs } from "../ffmpeg/args.ts";
import { defaultFfmpeg, ffmpeg } from "../ffmpeg/locate.ts";
import { decodeCheck, outputFormatOf } from "./verify.ts";

/**
 * The finisher's decode check reads an output like any source (issue 12, finding 4): only the
 * protocols its address needs and the demuxer named. An object replaced by a playlist cannot
 * make it open a local file or an internal address.
 */
let dir: string;
let clip: string;
let server: Server;
let connections = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "videoforge-verify-"));
  clip = join(dir, "240p.mp4");
  await ffmpeg(
    [
      "-f",
      "lavfi",
      "-i",
      "testsrc=size=160x120:rate=10:duration=1",
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      "-pix_fmt",
      "yuv420p",
      clip,
    ],
    { timeoutMs: 30_000 },
  );
  // an internal service a crafted playlist would point at: it must never be reached
  server = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
});
afterAll(async () => {
  server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("decodeCheck", () => {
  it("names the protocols and the demuxer in front of -i", () => {
    expect(decodeCheckArgs("/tmp/a.mp4", "mov", "-fps_mode")).toEqual([
      "-err_detect",
      "explode",
      "-xerror",
      "-skip_loop_filter",
      "all",
      "-protocol_whitelist",
      "file",
      "-f",
      "mov",
      "-i",
      "/tmp/a.mp4",
      "-map",
      "0:v:0",
      "-fps_mode",
      "passthrough",
      "-f",
      "null",
      "-",
    ]);
    const url = "https://outputs.example/jobs/j1/720p.mp4?X-Amz-Signature=abc";
    expect(decodeCheckArgs(url, "mov", "-vsync").slice(5, 11)).toEqual([
      "-protocol_whitelist",
      "http,https,tcp,tls",
      "-f",
      "mov",
      "-i",
      url,
    ]);
    expect([
      outputFormatOf(url),
      outputFormatOf("/o/hls/240p/index.m3u8"),
      outputFormatOf("/o/hls/240p/00001.ts"),
    ]).toEqual(["mov", "hls", "mpegts"]);
    expect(() => outputFormatOf("/o/poster.jpg")).toThrow(/not an output/);
  });

  it("decodes a real MP4 and a real HLS rendition (segments read as files only) and counts their frames", async () => {
    expect(await decodeCheck(defaultFfmpeg(), clip, 30_000, "mov")).toEqual({ ok: true, frames: 10 });
    const playlist = join(dir, "index.m3u8");
    await ffmpeg(["-i", clip, "-c", "copy", "-f", "hls", "-hls_time", "1", "-hls_playlist_type", "vod", playlist], {
      timeoutMs: 30_000,
    });
    expect(await decodeCheck(defaultFfmpeg(), playlist, 30_000)).toEqual({ ok: true, frames: 10 });
  });

  it("refuses a playlist stored as the MP4 output: no local file and no internal address is read", async () => {
    const local = join(dir, "720p.mp4");
    await writeFile(local, `#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n${clip}\n#EXT-X-ENDLIST\n`);
    const ssrf = join(dir, "1080p.mp4");
    const port = (server.address() as AddressInfo).port;
    await writeFile(
      ssrf,
      `#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nhttp://127.0.0.1:${port}/secret.ts\n#EXT-X-ENDLIST\n`,
    );

    for (const file of [local, ssrf])
      expect(await decodeCheck(defaultFfmpeg(), file, 30_000, "mov")).toMatchObject({ ok: false });
    // even read as what it is, the playlist may only open files: the internal address stays unreached
    expect(await decodeCheck(defaultFfmpeg(), ssrf, 30_000, "hls")).toMatchObject({ ok: false });
    expect(connections).toBe(0);
  });
});
