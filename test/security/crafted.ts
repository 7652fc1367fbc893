import { writeFile } from "node:fs/promises";

/**
 * Small byte generators for crafted media (issue 12). Everything is built here or by ffmpeg
 * in the tests; nothing is downloaded.
 */

/** EBML variable-length size: 8 bytes, enough for anything written here. */
function size(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt8(0x01, 0);
  b.writeUIntBE(n, 2, 6);
  return b;
}
const el = (id: number[], ...body: Buffer[]) => {
  const data = Buffer.concat(body);
  return Buffer.concat([Buffer.from(id), size(data.length), data]);
};
const uint = (id: number[], v: number) => el(id, Buffer.from([v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255]));
const str = (id: number[], s: string) => el(id, Buffer.from(s, "ascii"));
const float64 = (id: number[], v: number) => {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(v);
  return el(id, b);
};
const simpleBlock = (timecode: number, keyframe: boolean, data: Buffer) => {
  const head = Buffer.from([0x81, (timecode >> 8) & 255, timecode & 255, keyframe ? 0x80 : 0x00]);
  return el([0xa3], head, data);
};

/**
 * Finding 2's poison pill, scaled: a Matroska file whose header says 10 s, holding one real
 * picture (a JPEG from ffmpeg) and then `blocks` one-byte blocks. Listing its packets line by
 * line is what crashed `videoforge up` at 8.6 M blocks.
 */
export async function manyBlocksMkv(
  file: string,
  jpeg: Buffer,
  blocks: number,
  width: number,
  height: number,
): Promise<void> {
  const header = el(
    [0x1a, 0x45, 0xdf, 0xa3],
    uint([0x42, 0x86], 1),
    uint([0x42, 0xf7], 1),
    uint([0x42, 0xf2], 4),
    uint([0x42, 0xf3], 8),
    str([0x42, 0x82], "matroska"),
    uint([0x42, 0x87], 4),
    uint([0x42, 0x85], 2),
  );
  const info = el(
    [0x15, 0x49, 0xa9, 0x66],
    uint([0x2a, 0xd7, 0xb1], 1_000_000),
    float64([0x44, 0x89], 10_000),
    str([0x4d, 0x80], "crafted"),
    str([0x57, 0x41], "crafted"),
  );
  const video = el([0xe0], uint([0xb0], width), uint([0xba], height));
  const track = el([0xae], uint([0xd7], 1), uint([0x73, 0xc5], 1), uint([0x83], 1), str([0x86], "V_MJPEG"), video);
  const tracks = el([0x16, 0x54, 0xae, 0x6b], track);
  const clusters: Buffer[] = [];
  const perCluster = 30_000;
  for (let first = 0; first < blocks + 1; first += perCluster) {
    const body: Buffer[] = [uint([0xe7], first === 0 ? 0 : 40)];
    for (let i = first; i < Math.min(blocks + 1, first + perCluster); i++)
      body.push(i === 0 ? simpleBlock(0, true, jpeg) : simpleBlock(0, false, Buffer.from([0])));
    clusters.push(el([0x1f, 0x43, 0xb6, 0x75], ...body));
  }
  await writeFile(file, Buffer.concat([header, el([0x18, 0x53, 0x80, 0x67], info, tracks, ...clusters)]));
}

const fourcc = (s: string) => Buffer.from(s, "ascii");
const u32 = (...v: number[]) =>
  Buffer.concat(
    v.map((n) => {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(n >>> 0);
      return b;
    }),
  );
const chunk = (id: string, data: Buffer) =>
  Buffer.concat([fourcc(id), u32(data.length), data, data.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
const list = (type: string, ...items: Buffer[]) => chunk("LIST", Buffer.concat([fourcc(type), ...items]));

/**
 * The AVI trick from the "refused correctly" list: a subtitle stream whose GAB2
 * chunk embeds a file ffmpeg would probe and open as a demuxer of its own, here an HLS
 * playlist naming `target`. An old ffmpeg followed it; ours must not.
 */
export async function aviWithEmbeddedPlaylist(file: string, target: string): Promise<void> {
  const playlist = Buffer.from(`#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:10.0,\n${target}\n#EXT-X-ENDLIST\n`, "ascii");
  const desc = Buffer.from("x\0", "utf16le");
  const gab2 = Buffer.concat([
    Buffer.from("GAB2\0", "ascii"),
    Buffer.from([2, 0]),
    u32(desc.length),
    desc,
    Buffer.from([4, 0]),
    u32(playlist.length),
    playlist,
  ]);
  const avih = u32(1_000_000, 0, 0, 0x10, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0);
  const strh = Buffer.concat([fourcc("txts"), u32(0, 0, 0, 0, 1, 1, 0, 1, 0, 0, 0), Buffer.alloc(8)]);
  const hdrl = list("hdrl", chunk("avih", avih), list("strl", chunk("strh", strh), chunk("strf", Buffer.alloc(0))));
  const movi = list("movi", chunk("00tx", gab2));
  const idx1 = chunk("idx1", Buffer.concat([fourcc("00tx"), u32(0x10, 4, gab2.length)]));
  const body = Buffer.concat([fourcc("AVI "), hdrl, movi, idx1]);
  await writeFile(file, Buffer.concat([fourcc("RIFF"), u32(body.length), body]));
}
