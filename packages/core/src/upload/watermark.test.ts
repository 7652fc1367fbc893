import { describe, expect, it } from "vitest";
import { checkWatermarkImage, MAX_WATERMARK_BYTES } from "./watermark.ts";
import { ladderFilter } from "../ffmpeg/args.ts";

/** The smallest PNG header that states a size (signature + IHDR). */
function png(width: number, height: number): string {
  const b = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(b);
  b.writeUInt32BE(13, 8);
  b.write("IHDR", 12, "latin1");
  b.writeUInt32BE(width, 16);
  b.writeUInt32BE(height, 20);
  return b.toString("base64");
}

/** A JPEG start, an APP0 segment, then a baseline start-of-frame stating the size. */
function jpeg(width: number, height: number): string {
  const app0 = [0xff, 0xe0, 0x00, 0x04, 0x00, 0x00];
  const sof = [0xff, 0xc0, 0x00, 0x0b, 0x08, height >> 8, height & 255, width >> 8, width & 255, 0x01, 0x01];
  return Buffer.from([0xff, 0xd8, ...app0, ...sof, 0x00, 0x00]).toString("base64");
}

describe("checkWatermarkImage", () => {
  it("reads PNG and JPEG by their own signature and header", () => {
    expect(checkWatermarkImage(png(200, 80))).toMatchObject({ format: "png", width: 200, height: 80 });
    expect(checkWatermarkImage(jpeg(640, 360))).toMatchObject({ format: "jpeg", width: 640, height: 360 });
  });

  it("refuses what is not one, a size past the bounds, too many bytes, and text that is not base64", () => {
    expect(() => checkWatermarkImage(Buffer.from("<svg onload=alert(1)/>").toString("base64"))).toThrow(
      /not a PNG or JPEG/,
    );
    expect(() => checkWatermarkImage(png(5000, 10))).toThrow(/5000x10; each side must be 1 to 2048/);
    expect(() => checkWatermarkImage(png(0, 10))).toThrow(/each side/);
    expect(() => checkWatermarkImage(Buffer.alloc(MAX_WATERMARK_BYTES + 1).toString("base64"))).toThrow(/at most/);
    expect(() => checkWatermarkImage("not base64!")).toThrow(/base64/);
  });
});

describe("ladderFilter with a watermark", () => {
  it("scales the image to its share of each rung, sets its opacity and lays it where asked", () => {
    const rungs = [
      { name: "720p", width: 1280, height: 720, videoBitrate: 1, maxrate: 1 },
      { name: "360p", width: 640, height: 360, videoBitrate: 1, maxrate: 1 },
    ];
    const f = ladderFilter(rungs, 0, undefined, { position: "top-right", opacity: 0.5, width: 0.1 });
    expect(f).toContain("[1:v:0]format=rgba,colorchannelmixer=aa=0.500,split=2[m0][m1]");
    expect(f).toContain("[m0]scale=128:-2[w0]");
    expect(f).toContain("[m1]scale=64:-2[w1]");
    expect(f).toContain("[b1][w1]overlay=x=W-w-W*0.02:y=W*0.02:format=auto,format=yuv420p[v1]");
  });
});
