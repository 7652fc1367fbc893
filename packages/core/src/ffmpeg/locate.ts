import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export interface FfmpegBinaries {
  ffmpeg: string;
  ffprobe: string;
  /** Major.minor of ffmpeg, or 0 for git builds that do not say. */
  version: number;
  /** What `ffmpeg -version` names, e.g. `5.1.9-0+deb12u1`: logged with each job and on /health. */
  build: string;
  /** `-fps_mode` replaced `-vsync` in 5.1. */
  fpsModeFlag: "-fps_mode" | "-vsync";
  /** `artifact`: the copy next to a built artifact (.build/aws/ffmpeg). */
  origin: "env" | "system" | "npm" | "artifact";
}

// set by the artifact build (stacks/build-artifacts.ts) through esbuild's `define`
declare const __VIDEOFORGE_ARTIFACT__: boolean | undefined;
declare const __VIDEOFORGE_FFMPEG_BUILD__: string | undefined;

/** True inside a bundle built by `npm run build:aws` (Lambda zip, worker image). */
export const IN_ARTIFACT = typeof __VIDEOFORGE_ARTIFACT__ !== "undefined" && __VIDEOFORGE_ARTIFACT__ === true;

/** `5.1.9-0+deb12u1` → 5.01 (major + minor / 100, as `version` below). */
function versionNumber(build: string): number {
  const m = /^n?(\d+)\.(\d+)/.exec(build);
  return m ? Number(m[1]) + Number(m[2]) / 100 : 0;
}

/** The ffmpeg build the artifacts were built with (the worker image runs it), or undefined outside a bundle. */
export const ARTIFACT_FFMPEG: { version: number; build: string } | undefined =
  typeof __VIDEOFORGE_FFMPEG_BUILD__ !== "undefined" ? { version: versionNumber(__VIDEOFORGE_FFMPEG_BUILD__), build: __VIDEOFORGE_FFMPEG_BUILD__ } : undefined;

/** Oldest system ffmpeg we trust; older ones lose to the npm-shipped build. */
const MIN_SYSTEM_VERSION = 5;

function probeVersion(bin: string): { version: number; build: string } | undefined {
  try {
    const out = execFileSync(bin, ["-version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 10_000 });
    const build = /version (\S+)/.exec(out)?.[1] ?? "unknown";
    return { version: versionNumber(build), build };
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

function describe(ffmpeg: string, ffprobe: string, probed: { version: number; build: string } | undefined, origin: FfmpegBinaries["origin"]): FfmpegBinaries {
  const version = probed?.version ?? 0;
  return { ffmpeg, ffprobe, version, build: probed?.build ?? "unknown", origin, fpsModeFlag: version >= 5.01 ? "-fps_mode" : "-vsync" };
}

/** The directory of the running bundle (an artifact resolves its ffmpeg from here). */
function artifactDir(): string {
  return dirname(fileURLToPath(import.meta.url));
}

/** ffmpeg shipped beside the artifact: `<dir>/ffmpeg/bin` or, in .build/aws/<kind>/, `../ffmpeg/bin`. */
function besideArtifact(): { ffmpeg: string; ffprobe: string } | undefined {
  for (const base of [join(artifactDir(), "ffmpeg"), join(artifactDir(), "..", "ffmpeg")]) {
    const ffmpeg = join(base, "bin", "ffmpeg");
    const ffprobe = join(base, "bin", "ffprobe");
    if (existsSync(ffmpeg) && existsSync(ffprobe)) return { ffmpeg, ffprobe };
  }
  return undefined;
}

let found: FfmpegBinaries | undefined;

/**
 * FFMPEG_PATH/FFPROBE_PATH win (a relative path is resolved against the artifact inside a
 * bundle); a built artifact then takes only the ffmpeg shipped beside it and never looks at
 * the machine's PATH, so every runtime runs the one collected build. Outside a bundle: a
 * recent system ffmpeg, then the static build inside the npm package (`npm install` is enough).
 */
export function ffmpegBinaries(env: Record<string, string | undefined> = process.env): FfmpegBinaries {
  if (found) return found;
  if (env.FFMPEG_PATH) {
    const at = (p: string) => (IN_ARTIFACT && !isAbsolute(p) ? resolve(artifactDir(), p) : p);
    const ffmpeg = at(env.FFMPEG_PATH);
    const ffprobe = at(env.FFPROBE_PATH ?? env.FFMPEG_PATH.replace(/ffmpeg(\.exe)?$/, "ffprobe$1"));
    return (found = describe(ffmpeg, ffprobe, probeVersion(ffmpeg), "env"));
  }
  if (IN_ARTIFACT) {
    const own = besideArtifact();
    if (!own) throw new Error(`no ffmpeg for this artifact: FFMPEG_PATH is not set and ${artifactDir()} has no ffmpeg/bin beside it (the worker image sets FFMPEG_PATH; zip Lambdas run no ffmpeg)`);
    return (found = describe(own.ffmpeg, own.ffprobe, probeVersion(own.ffmpeg), "artifact"));
  }
  const system = probeVersion("ffmpeg");
  if (system !== undefined && system.version >= MIN_SYSTEM_VERSION && probeVersion("ffprobe") !== undefined) {
    return (found = describe("ffmpeg", "ffprobe", system, "system"));
  }
  const npm = npmBinaries();
  return (found = describe(npm.ffmpeg, npm.ffprobe, probeVersion(npm.ffmpeg), "npm"));
}
