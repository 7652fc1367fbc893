import { InvalidInputError } from "../errors.ts";

/** The largest watermark image we take, encoded and in pixels: a logo, not a picture. */
export const MAX_WATERMARK_BYTES = 256 * 1024;
const MAX_SIDE = 2048;

/**
 * A watermark image a user sent (base64), checked before anything stores it: PNG or JPEG by its own
 * signature (never by a name), a size in its header within bounds. The encoders read it with the
 * matching demuxer only, so bytes that only look like an image fail there, not elsewhere.
 */
export function checkWatermarkImage(base64: string): {
  bytes: Buffer;
  format: "png" | "jpeg";
  width: number;
  height: number;
} {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) throw new InvalidInputError("watermark.image must be base64.");
  const bytes = Buffer.from(base64, "base64");
  if (bytes.length > MAX_WATERMARK_BYTES)
    throw new InvalidInputError(`watermark.image is ${bytes.length} bytes; at most ${MAX_WATERMARK_BYTES} are taken.`);
  const size = pngSize(bytes) ?? jpegSize(bytes);
  if (!size) throw new InvalidInputError("watermark.image is not a PNG or JPEG image.");
  const { format, width, height } = size;
  if (width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE)
    throw new InvalidInputError(`watermark.image is ${width}x${height}; each side must be 1 to ${MAX_SIDE} pixels.`);
  return { bytes, format, width, height };
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width and height from a PNG's IHDR, the chunk its format requires first. */
function pngSize(b: Buffer) {
  if (b.length < 24 || !b.subarray(0, 8).equals(PNG_SIGNATURE) || b.toString("latin1", 12, 16) !== "IHDR") return null;
  return { format: "png" as const, width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

/** Width and height from a JPEG's first start-of-frame marker (SOF0–SOF15 but DHT, JPG and DAC). */
function jpegSize(b: Buffer) {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return null;
  let at = 2;
  while (at + 9 < b.length) {
    if (b[at] !== 0xff) return null;
    const marker = b[at + 1]!;
    const length = b.readUInt16BE(at + 2);
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker))
      return { format: "jpeg" as const, height: b.readUInt16BE(at + 5), width: b.readUInt16BE(at + 7) };
    at += 2 + length;
  }
  return null;
}
