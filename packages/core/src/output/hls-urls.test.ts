import { describe, expect, it } from "vitest";
import { S3Client } from "@aws-sdk/client-s3";
import { s3Store } from "../adapters/s3-store.ts";
import { loadConfig } from "../config.ts";
import {
  playbackUrlSeconds,
  playlistDuration,
  rewriteMpdUrls,
  rewritePlaylistUris,
  signMediaPlaylist,
} from "./hls-urls.ts";

/** A media playlist as ffmpeg's HLS muxer writes it (two segments). */
const media = [
  "#EXTM3U",
  "#EXT-X-VERSION:3",
  "#EXT-X-TARGETDURATION:6",
  "#EXT-X-MEDIA-SEQUENCE:0",
  "#EXTINF:6.000000,",
  "seg_00000.ts",
  "#EXTINF:1.960000,",
  "seg_00001.ts",
  "#EXT-X-ENDLIST",
  "",
].join("\n");

describe("rewritePlaylistUris", () => {
  it("points the assembler's master playlist at the given media-playlist URLs and keeps every tag", async () => {
    // a master as the CMAF packager writes it: an audio group (URI attribute) and one variant per rung
    const master = [
      "#EXTM3U",
      "#EXT-X-VERSION:7",
      "#EXT-X-INDEPENDENT-SEGMENTS",
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="audio",DEFAULT=YES,AUTOSELECT=YES,URI="audio/index.m3u8"',
      '#EXT-X-STREAM-INF:BANDWIDTH=900000,RESOLUTION=640x360,CODECS="avc1.64001e,mp4a.40.2",AUDIO="aud"',
      "360p/index.m3u8",
      '#EXT-X-STREAM-INF:BANDWIDTH=500000,RESOLUTION=426x240,CODECS="avc1.640015,mp4a.40.2",AUDIO="aud"',
      "240p/index.m3u8",
      "",
    ].join("\n");

    const out = await rewritePlaylistUris(master, (uri) => `/jobs/j1/hls/${uri}?v=1`);

    const lines = out.split("\n");
    expect(lines.filter((l) => !l.startsWith("#") && l)).toEqual([
      "/jobs/j1/hls/360p/index.m3u8?v=1",
      "/jobs/j1/hls/240p/index.m3u8?v=1",
    ]);
    // the audio group's URI attribute is rewritten too; every other tag stays as it was
    expect(lines[3]).toContain('URI="/jobs/j1/hls/audio/index.m3u8?v=1"');
    const tags = (text: string) => text.split("\n").filter((l) => l.startsWith("#") && !l.includes("URI="));
    expect(tags(out)).toEqual(tags(master));
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
    const text =
      '#EXTM3U\r\n#EXT-X-MAP:URI="init.mp4",BYTERANGE="720@0"\r\n' +
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="en",URI="audio/index.m3u8"\r\n' +
      "#EXTINF:4,\r\nseg_1.m4s\r\n";

    const out = await rewritePlaylistUris(text, (uri) => `S(${uri})`);

    expect(out).toBe(
      '#EXTM3U\n#EXT-X-MAP:URI="S(init.mp4)",BYTERANGE="720@0"\n' +
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="en",URI="S(audio/index.m3u8)"\n' +
        "#EXTINF:4,\nS(seg_1.m4s)\n",
    );
  });

  it.each(["../other-job/hls/seg_00000.ts", "http://evil.example/x.ts", "/jobs/x/source", "a/../../b.ts", ".hidden"])(
    "refuses the URI %s instead of signing it",
    async (uri) => {
      let signed = 0;
      await expect(rewritePlaylistUris(`#EXTM3U\n#EXTINF:6,\n${uri}\n`, (u) => `${++signed}${u}`)).rejects.toThrow(
        /not a relative path/,
      );
      expect(signed).toBe(0);
    },
  );
});

describe("segment URLs outlive the video", () => {
  /** ffmpeg's media playlist for a 2-hour rendition: 1,200 segments of 6 s. */
  const twoHours = [
    "#EXTM3U",
    "#EXT-X-VERSION:3",
    "#EXT-X-TARGETDURATION:6",
    "#EXT-X-MEDIA-SEQUENCE:0",
    ...Array.from({ length: 1200 }, (_, i) => [`#EXTINF:6.000000,`, `seg_${String(i).padStart(5, "0")}.ts`]).flat(),
    "#EXT-X-ENDLIST",
    "",
  ].join("\n");
  // the real presigner (offline), so the lifetime asserted is the one in each URL
  const store = s3Store(
    new S3Client({ region: "eu-west-1", credentials: { accessKeyId: "AKIAEXAMPLE", secretAccessKey: "secret" } }),
  );

  it("signs a 2-hour video's segments for 2 h + the margin (default 1 h), not the download's 5 minutes", async () => {
    const cfg = loadConfig({});
    expect(cfg.urlSeconds).toMatchObject({ download: 300, playbackMargin: 3600, playbackMax: 7 * 24 * 3600 });
    expect(playlistDuration(twoHours)).toBe(7200);

    const out = await signMediaPlaylist({ store, cfg }, twoHours, "jobs/j1/hls/720p", 7199.96);

    const urls = out
      .split("\n")
      .filter((l) => l && !l.startsWith("#"))
      .map((l) => new URL(l));
    expect(urls).toHaveLength(1200);
    for (const u of urls) expect(u.searchParams.get("X-Amz-Expires")).toBe(String(7200 + 3600));
    expect(urls[1199]!.host + urls[1199]!.pathname).toBe(
      `${cfg.buckets.outputs}.s3.eu-west-1.amazonaws.com/jobs/j1/hls/720p/seg_01199.ts`,
    );
  });

  it("takes margin and ceiling from configuration, and the longer of the source's and the playlist's duration", () => {
    const cfg = loadConfig({
      VIDEOFORGE_PLAYBACK_URL_MARGIN_SECONDS: "600",
      VIDEOFORGE_PLAYBACK_URL_MAX_SECONDS: "86400",
    });
    expect(playbackUrlSeconds(cfg, 7200)).toBe(7800);
    expect(playbackUrlSeconds(cfg, 7200.2)).toBe(7801);
    // a 6-hour video under a 2-hour ceiling: bounded
    expect(playbackUrlSeconds(loadConfig({ VIDEOFORGE_PLAYBACK_URL_MAX_SECONDS: "7200" }), 6 * 3600)).toBe(7200);
    // never beyond SigV4's 7 days, whatever is configured
    expect(loadConfig({ VIDEOFORGE_PLAYBACK_URL_MAX_SECONDS: String(30 * 24 * 3600) }).urlSeconds.playbackMax).toBe(
      7 * 24 * 3600,
    );
    // a 3-second clip still gets at least the download lifetime plus the margin
    expect(playbackUrlSeconds(cfg, 3)).toBe(603);
    expect(playbackUrlSeconds(loadConfig({ VIDEOFORGE_PLAYBACK_URL_MARGIN_SECONDS: "1" }), 3)).toBe(300);
  });

  it("uses the playlist's own duration when the source's is unknown or shorter", async () => {
    const lifetimes = new Set<number>();
    const recording = {
      ...store,
      presignGet: async (_b: string, key: string, expires: number) => (lifetimes.add(expires), key),
    };
    await signMediaPlaylist({ store: recording, cfg: loadConfig({}) }, twoHours, "jobs/j1/hls/720p");
    await signMediaPlaylist({ store: recording, cfg: loadConfig({}) }, twoHours, "jobs/j1/hls/720p", 60);
    expect([...lifetimes]).toEqual([10800]);
  });
});

describe("rewriteMpdUrls", () => {
  const mpd = [
    '<SegmentList timescale="90000">',
    '  <Initialization sourceURL="../hls/720p-av1/init.mp4"/>',
    '  <SegmentURL media="../hls/720p-av1/seg_00001.m4s"/>',
    '  <SegmentURL media="../hls/720p-av1/seg_00002.m4s"/>',
    "</SegmentList>",
  ].join("\n");

  it("signs every init and media reference from the job's folder, XML-escaped, and keeps the rest", async () => {
    const paths: string[] = [];
    const out = await rewriteMpdUrls(mpd, (path) => (paths.push(path), `https://s3/${path}?a=1&b=2`));
    expect(paths).toEqual(["hls/720p-av1/init.mp4", "hls/720p-av1/seg_00001.m4s", "hls/720p-av1/seg_00002.m4s"]);
    expect(out).toContain('sourceURL="https://s3/hls/720p-av1/init.mp4?a=1&amp;b=2"');
    expect(out).toContain('media="https://s3/hls/720p-av1/seg_00002.m4s?a=1&amp;b=2"');
    expect(out.split("\n")[0]).toBe('<SegmentList timescale="90000">');
  });

  it("refuses a reference outside the job's stream folders", async () => {
    for (const bad of [
      "../../other-job/hls/720p/seg.m4s",
      "https://evil/x.m4s",
      "../hls/720p/../../x",
      "../poster.jpg",
    ])
      await expect(rewriteMpdUrls(`<SegmentURL media="${bad}"/>`, (p) => p)).rejects.toThrow(/not a stream file/);
  });
});
