import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodableCodecs, missingDecoder } from "./capabilities.ts";
import type { FfmpegBinaries } from "./locate.ts";

/** A stand-in ffmpeg that prints a `-codecs` table: h264 decodes; dfpwm only encodes. */
const CODECS = ` DEV.LS h264                 H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10
 D.A.L. aac                  AAC (Advanced Audio Coding)
 .EA..S dfpwm                DFPWM audio
`;
let dir: string;
let fake: FfmpegBinaries;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "capabilities-"));
  const ffmpeg = join(dir, "ffmpeg");
  await writeFile(ffmpeg, `#!/bin/sh\ncat <<'END'\nCodecs:\n D..... = Decoding supported\n -------\n${CODECS}END\n`);
  await chmod(ffmpeg, 0o755);
  fake = {
    ffmpeg,
    ffprobe: join(dir, "ffprobe"),
    version: 0,
    build: "N-47683",
    fpsModeFlag: "-vsync",
    origin: "npm",
  } as FfmpegBinaries;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("ffmpeg capabilities", () => {
  it("reads the codecs an ffmpeg decodes", async () => {
    expect([...((await decodableCodecs(fake)) ?? [])].sort()).toEqual(["aac", "h264"]);
  });

  it("names a missing decoder and the command that installs a full ffmpeg", async () => {
    expect(await missingDecoder("video", "h264", fake)).toBeUndefined();
    expect(await missingDecoder("audio", "dfpwm", fake)).toBe(
      "The audio is dfpwm, and the ffmpeg shipped in the npm package " +
        "(a 2018 build, used because no system ffmpeg 5 or newer was found) " +
        "has no dfpwm decoder. " +
        "Install a full ffmpeg (sudo apt-get install -y ffmpeg, or set FFMPEG_PATH to one) and try again.",
    );
  });

  it("refuses nothing when the list cannot be read", async () => {
    const broken = { ...fake, ffmpeg: join(dir, "no-such-ffmpeg") };
    expect(await missingDecoder("video", "anything", broken)).toBeUndefined();
  });
});
