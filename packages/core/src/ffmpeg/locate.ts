import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";

export interface FfmpegBinaries {
  ffmpeg: string;
  ffprobe: string;
  /** Major.minor of ffmpeg, or 0 for git builds that do not say. */
  version: number;
  /** `-fps_mode` replaced `-vsync` in 5.1. */
  fpsModeFlag: "-fps_mode" | "-vsync";
  origin: "env" | "system" | "npm";
}

/** Oldest system ffmpeg we trust; older ones lose to the npm-shipped build. */
const MIN_SYSTEM_VERSION = 5;

function versionOf(bin: string): number | undefined {
  try {
    const out = execFileSync(bin, ["-version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 10_000 });
    const m = /version n?(\d+)\.(\d+)/.exec(out);
    return m ? Number(m[1]) + Number(m[2]) / 100 : 0;
  } catch {
    return undefined;
  }
}

function npmBinaries(): { ffmpeg: string; ffprobe: string } {
  const require = createRequire(import.meta.url);
  const ffmpeg = (require("@ffmpeg-installer/ffmpeg") as { path: string }).path;
  const ffprobe = (require("@ffprobe-installer/ffprobe") as { path: string }).path;
  return { ffmpeg, ffprobe };
}

function describe(ffmpeg: string, ffprobe: string, version: number, origin: FfmpegBinaries["origin"]): FfmpegBinaries {
  return { ffmpeg, ffprobe, version, origin, fpsModeFlag: version >= 5.01 ? "-fps_mode" : "-vsync" };
}

let found: FfmpegBinaries | undefined;

/**
 * FFMPEG_PATH/FFPROBE_PATH win; then a recent system ffmpeg; then the static build
 * that ships inside the npm package, so `npm install` alone is enough.
 */
export function ffmpegBinaries(env: Record<string, string | undefined> = process.env): FfmpegBinaries {
  if (found) return found;
  if (env.FFMPEG_PATH) {
    const ffprobe = env.FFPROBE_PATH ?? env.FFMPEG_PATH.replace(/ffmpeg(\.exe)?$/, "ffprobe$1");
    return (found = describe(env.FFMPEG_PATH, ffprobe, versionOf(env.FFMPEG_PATH) ?? 0, "env"));
  }
  const system = versionOf("ffmpeg");
  if (system !== undefined && system >= MIN_SYSTEM_VERSION && versionOf("ffprobe") !== undefined) {
    return (found = describe("ffmpeg", "ffprobe", system, "system"));
  }
  const npm = npmBinaries();
  return (found = describe(npm.ffmpeg, npm.ffprobe, versionOf(npm.ffmpeg) ?? 0, "npm"));
}
