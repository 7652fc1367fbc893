import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { config, type Config } from "../config.ts";
import type { Logger } from "../log.ts";
import { Ffmpeg, type RunOptions } from "./run.ts";

/**
 * What the argument builders need to know about the ffmpeg that will run their arguments:
 * resolved once with the binaries, then passed in, so that building arguments does no I/O.
 */
export interface FfmpegCapabilities {
  /** `-fps_mode` replaced `-vsync` in 5.1. */
  fpsModeFlag: "-fps_mode" | "-vsync";
  /**
   * The 2018 static build that npm ships (and anything before 4.4, or a build that names no
   * version): no setts bitstream filter, and MP4 edit lists that drop frames.
   */
  legacyMuxer: boolean;
}

/** Where to look first: FFMPEG_PATH / FFPROBE_PATH (`Config["ffmpeg"]`). */
export type FfmpegLocation = Config["ffmpeg"];

export interface FfmpegBinaries extends FfmpegCapabilities {
  ffmpeg: string;
  ffprobe: string;
  /** Major.minor of ffmpeg, or 0 for git builds that do not say. */
  version: number;
  /** What `ffmpeg -version` names, e.g. `5.1.9-0+deb12u1`: logged with each job and on /health. */
  build: string;
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
  typeof __VIDEOFORGE_FFMPEG_BUILD__ !== "undefined"
    ? { version: versionNumber(__VIDEOFORGE_FFMPEG_BUILD__), build: __VIDEOFORGE_FFMPEG_BUILD__ }
    : undefined;

/** Oldest system ffmpeg we trust; older ones lose to the npm-shipped build. */
const MIN_SYSTEM_VERSION = 5;

function probeVersion(bin: string): { version: number; build: string } | undefined {
  try {
    const out = execFileSync(bin, ["-version"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 10_000,
    });
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

function describe(
  ffmpeg: string,
  ffprobe: string,
  probed: { version: number; build: string } | undefined,
  origin: FfmpegBinaries["origin"],
): FfmpegBinaries {
  const version = probed?.version ?? 0;
  const fpsModeFlag = version >= 5.01 ? "-fps_mode" : "-vsync";
  return {
    ffmpeg,
    ffprobe,
    version,
    build: probed?.build ?? "unknown",
    origin,
    fpsModeFlag,
    legacyMuxer: version < 4.04,
  };
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

const found = new Map<string, FfmpegBinaries>();

/**
 * The ffmpeg and ffprobe to run, probed once per location (the composition roots call this,
 * or `createFfmpeg`; nothing else locates binaries). FFMPEG_PATH/FFPROBE_PATH win (a relative
 * path is resolved against the artifact inside a bundle); a built artifact then takes only the
 * ffmpeg shipped beside it and never looks at the machine's PATH, so every runtime runs the one
 * collected build. Outside a bundle: a recent system ffmpeg, then the static build inside the
 * npm package (`npm install` is enough).
 */
export function ffmpegBinaries(where: FfmpegLocation = config().ffmpeg): FfmpegBinaries {
  const key = `${where.path ?? ""}\n${where.probePath ?? ""}`;
  let binaries = found.get(key);
  if (!binaries) found.set(key, (binaries = locate(where)));
  return binaries;
}

function locate(where: FfmpegLocation): FfmpegBinaries {
  if (where.path) {
    const at = (p: string) => (IN_ARTIFACT && !isAbsolute(p) ? resolve(artifactDir(), p) : p);
    const ffmpeg = at(where.path);
    const ffprobe = at(where.probePath ?? where.path.replace(/ffmpeg(\.exe)?$/, "ffprobe$1"));
    return describe(ffmpeg, ffprobe, probeVersion(ffmpeg), "env");
  }
  if (IN_ARTIFACT) {
    const own = besideArtifact();
    if (!own)
      throw new Error(
        `no ffmpeg for this artifact: FFMPEG_PATH is not set and ${artifactDir()} has no ffmpeg/bin beside it ` +
          "(the worker image sets FFMPEG_PATH; zip Lambdas run no ffmpeg)",
      );
    return describe(own.ffmpeg, own.ffprobe, probeVersion(own.ffmpeg), "artifact");
  }
  const system = probeVersion("ffmpeg");
  if (system !== undefined && system.version >= MIN_SYSTEM_VERSION && probeVersion("ffprobe") !== undefined) {
    return describe("ffmpeg", "ffprobe", system, "system");
  }
  const npm = npmBinaries();
  return describe(npm.ffmpeg, npm.ffprobe, probeVersion(npm.ffmpeg), "npm");
}

/**
 * The ffmpeg wrapper of a runtime, from its config: binaries located (once), threads, scratch
 * folder and time limit taken from `cfg`. Composition roots call it once and inject the result.
 */
export function createFfmpeg(cfg: Config, log?: Logger): Ffmpeg {
  return new Ffmpeg({
    binaries: () => ffmpegBinaries(cfg.ffmpeg),
    log,
    tmpDir: cfg.tmpDir,
    threads: cfg.encoderThreads,
    timeoutMs: cfg.ffmpegTimeoutMs,
  });
}

let standalone: Ffmpeg | undefined;
/**
 * For tests and one-off tools only (fixtures, benchmarks): the wrapper built from this
 * process's config. Runtime code gets its wrapper injected (`Deps.ffmpeg`).
 */
export function defaultFfmpeg(): Ffmpeg {
  return (standalone ??= createFfmpeg(config()));
}

/** For tests and one-off tools only: `defaultFfmpeg().run(args, opts)`. */
export function ffmpeg(args: string[], opts?: RunOptions): Promise<void> {
  return defaultFfmpeg().run(args, opts);
}
