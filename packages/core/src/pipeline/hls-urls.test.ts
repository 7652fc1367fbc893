import { describe, expect, it } from "vitest";
import { rewritePlaylistUris } from "./hls-urls.ts";
import { masterPlaylist } from "./assemble.ts";

/** A media playlist as ffmpeg's HLS muxer writes it (two segments). */
const media = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:6", "#EXT-X-MEDIA-SEQUENCE:0", "#EXTINF:6.000000,", "seg_00000.ts", "#EXTINF:1.960000,", "seg_00001.ts", "#EXT-X-ENDLIST", ""].join("\n");

describe("rewritePlaylistUris", () => {
  it("points the assembler's master playlist at the given media-playlist URLs and keeps every tag", async () => {
    const outputs = [
      { rendition: "360p", key: "k1", width: 640, height: 360, frames: 50, duration: 2, bytes: 200_000, bitrate: 800_000 },
      { rendition: "240p", key: "k2", width: 426, height: 240, frames: 50, duration: 2, bytes: 100_000, bitrate: 400_000 },
    ];
    const master = masterPlaylist(outputs, true);

    const out = await rewritePlaylistUris(master, (uri) => `/jobs/j1/hls/${uri}?v=1`);

    const lines = out.split("\n");
    expect(lines.filter((l) => !l.startsWith("#") && l)).toEqual(["/jobs/j1/hls/360p/index.m3u8?v=1", "/jobs/j1/hls/240p/index.m3u8?v=1"]);
    expect(lines.filter((l) => l.startsWith("#"))).toEqual(master.split("\n").filter((l) => l.startsWith("#")));
  });

  it("replaces every segment of a media playlist in order, awaiting async signers", async () => {
    const seen: string[] = [];
    const out = await rewritePlaylistUris(media, async (uri) => {
      seen.push(uri);
      await new Promise((r) => setTimeout(r, uri === "seg_00000.ts" ? 20 : 0));
      return `https://s3.example/out/${uri}?X-Amz-Signature=abc`;
    });

    expect(seen.sort()).toEqual(["seg_00000.ts", "seg_00001.ts"]);
    expect(out.split("\n")).toEqual([
      "#EXTM3U",
      "#EXT-X-VERSION:3",
      "#EXT-X-TARGETDURATION:6",
      "#EXT-X-MEDIA-SEQUENCE:0",
      "#EXTINF:6.000000,",
      "https://s3.example/out/seg_00000.ts?X-Amz-Signature=abc",
      "#EXTINF:1.960000,",
      "https://s3.example/out/seg_00001.ts?X-Amz-Signature=abc",
      "#EXT-X-ENDLIST",
      "",
    ]);
  });

  it("rewrites URI attributes of tags (init segments, alternative renditions) and CRLF playlists", async () => {
    const text = '#EXTM3U\r\n#EXT-X-MAP:URI="init.mp4",BYTERANGE="720@0"\r\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="en",URI="audio/index.m3u8"\r\n#EXTINF:4,\r\nseg_1.m4s\r\n';

    const out = await rewritePlaylistUris(text, (uri) => `S(${uri})`);

    expect(out).toBe('#EXTM3U\n#EXT-X-MAP:URI="S(init.mp4)",BYTERANGE="720@0"\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="en",URI="S(audio/index.m3u8)"\n#EXTINF:4,\nS(seg_1.m4s)\n');
  });

  it.each(["../other-job/hls/seg_00000.ts", "http://evil.example/x.ts", "/jobs/x/source", "a/../../b.ts", ".hidden"])("refuses the URI %s instead of signing it", async (uri) => {
    let signed = 0;
    await expect(rewritePlaylistUris(`#EXTM3U\n#EXTINF:6,\n${uri}\n`, (u) => `${++signed}${u}`)).rejects.toThrow(/not a relative path/);
    expect(signed).toBe(0);
  });
});
