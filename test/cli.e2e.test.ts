import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { access, mkdir, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { makeFixture } from "./fixtures.ts";
import { useTestCloud } from "./helpers/cloud.ts";
import { decodedVideo, ssim } from "./helpers/media.ts";
import { defaultFfmpeg, ffmpeg } from "@videoforge/core";

/** The product as a user runs it: the `videoforge` command in a separate process. */
const BIN = fileURLToPath(new URL("../packages/cli/bin/videoforge.js", import.meta.url));
let dir: string;

/** Logs every module the process resolves to $VIDEOFORGE_IMPORT_TRACE. */
const IMPORT_TRACE = fileURLToPath(new URL("./helpers/import-trace.mjs", import.meta.url));

function cli(args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []) {
  const child = spawn(process.execPath, [...nodeArgs, BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (code) => resolve({ code, stdout, stderr })),
  );
  return { child, done, out: () => stdout };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "videoforge-cli-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Summary {
  jobId: string;
  status: string;
  source: { frames: number; duration: number; width: number; height: number; fps: number };
  outputs: {
    rendition: string;
    path: string;
    width: number;
    height: number;
    frames: number;
    duration: number;
    bytes: number;
  }[];
  hls: string;
  timings: { total: number; chunking: number; encoding: number; assembly: number };
}

describe("videoforge encode", () => {
  it("writes every rendition, the HLS ladder and a poster, and prints a JSON summary", async () => {
    const source = await makeFixture("h264-1080p-bframes-audio", dir);
    const out = join(dir, "out");
    const { code, stdout, stderr } = await cli(["encode", source, "--out", out, "--ladder", "720p,360p", "--json"], {
      VIDEOFORGE_CHUNK_SECONDS: "2",
    }).done;
    expect(code, stderr).toBe(0);
    const summary = JSON.parse(stdout) as Summary;
    expect(summary.status).toBe("COMPLETED");
    expect(summary.source).toMatchObject({ frames: 120, width: 1920, height: 1080, fps: 30 });
    expect(summary.outputs.map((o) => `${o.rendition} ${o.width}x${o.height}`)).toEqual([
      "720p 1280x720",
      "360p 640x360",
    ]);
    for (const o of summary.outputs) {
      expect(o.frames).toBe(120);
      expect((await stat(o.path)).size).toBe(o.bytes);
      expect((await decodedVideo(o.path)).frames).toBe(120);
    }
    const master = await readFile(summary.hls, "utf8");
    expect(master).toMatch(/^#EXTM3U/);
    expect(master).toContain("720p/index.m3u8");
    await access(join(out, "hls", "360p", "index.m3u8"));
    expect((await stat(join(out, "poster.jpg"))).size).toBeGreaterThan(1000);
    for (const t of ["total", "chunking", "encoding", "assembly"] as const)
      expect(summary.timings[t]).toBeGreaterThan(0);
  }, 180_000);

  it("exits non-zero with the reason when the job fails", async () => {
    const bad = await makeFixture("bad-text", dir);
    const { code, stderr } = await cli(["encode", bad, "--out", join(dir, "bad-out")]).done;
    expect(code).toBe(1);
    expect(stderr).toMatch(/FAILED: The file is not a video format we can read/);
  }, 60_000);

  it("refuses an unknown rung before doing any work", async () => {
    const { code, stderr } = await cli(["encode", await makeFixture("tiny-2s", dir), "--ladder", "999p"]).done;
    expect(code).toBe(1);
    expect(stderr).toMatch(/Unknown rung "999p"; choose from .*1080p/);
  });
});

describe("videoforge up / submit / jobs / events", () => {
  it("serves the API behind a token, takes a submission and shows its timeline", async () => {
    const data = join(dir, "data");
    const up = cli(["up", "--port", "0", "--data-dir", data]);
    try {
      const deadline = Date.now() + 30_000;
      while (!/dashboard: (http\S+)/.test(up.out()) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      const api = /is up: (http\S+)/.exec(up.out())?.[1];
      expect(api, up.out()).toBeTruthy();
      // the token is printed once and kept in the data directory, readable only by its owner
      const token = (await readFile(join(data, "token"), "utf8")).trim();
      // in the fragment: a browser never sends it to a server or in a Referer (issue 12)
      expect(up.out()).toContain(`dashboard: ${api}/#token=${token}`);
      expect((await stat(join(data, "token"))).mode & 0o077).toBe(0);
      expect((await stat(data)).mode & 0o777).toBe(0o700);
      expect((await stat(join(data, "videoforge.log.jsonl"))).mode & 0o077).toBe(0);
      expect(await (await fetch(`${api}/`)).text()).toContain("videoforge");
      const anonymous = await fetch(`${api}/jobs`);
      expect(anonymous.status).toBe(401);
      expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe("unauthorized");

      // the CLI finds the token through --data-dir (or VIDEOFORGE_TOKEN / --token)
      const submitted = await cli([
        "submit",
        await makeFixture("tiny-2s", dir),
        "--api",
        api!,
        "--data-dir",
        data,
        "--wait",
      ]).done;
      expect(submitted.code, submitted.stderr).toBe(0);
      const jobId = submitted.stdout.trim();

      const jobs = await cli(["jobs", "--api", api!, "--token", token]).done;
      expect(jobs.stdout).toMatch(new RegExp(`${jobId}\\s+COMPLETED`));
      const events = await cli(["events", jobId, "--api", api!, "--data-dir", data]).done;
      for (const type of [
        "VideoUploaded",
        "ChunkReady",
        "ChunkEncoded",
        "ChunksEncoded",
        "VideoAssembled",
        "JobCompleted",
      ])
        expect(events.stdout).toContain(type);
      const refused = await cli(["jobs", "--api", api!, "--token", "vf_wrong"]).done;
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/401/);
    } finally {
      up.child.kill("SIGINT");
      expect((await up.done).code).toBe(0);
    }
  }, 120_000);

  it("refuses to listen beyond loopback without tokens", async () => {
    const up = await cli(["up", "--port", "0", "--host", "0.0.0.0", "--no-auth", "--data-dir", join(dir, "open")]).done;
    expect(up.code).not.toBe(0);
    expect(up.stderr).toMatch(/Refusing to listen on 0\.0\.0\.0 without API tokens/);
  }, 60_000);
});

describe("videoforge command line", () => {
  const commands = [
    "up",
    "encode",
    "submit",
    "jobs",
    "events",
    "download",
    "dlq",
    "dlq redrive",
    "users add",
    "users remove",
    "users rotate",
    "bench",
  ];

  it.each([["--help"], ["-h"], ["help"]])("%s prints the usage of every command and exits 0", async (flag) => {
    const { code, stdout } = await cli([flag]).done;
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: videoforge \[options\] \[command\]/);
    for (const command of commands.filter((c) => !c.includes(" ")))
      expect(stdout).toMatch(new RegExp(`^  ${command} `, "m"));
  });

  it("--version prints the package's version and exits 0", async () => {
    const { version } = JSON.parse(
      await readFile(new URL("../packages/cli/package.json", import.meta.url), "utf8"),
    ) as { version: string };
    const { code, stdout } = await cli(["--version"]).done;
    expect(code).toBe(0);
    expect(stdout.trim()).toBe(version);
  });

  it.each(commands)("%s --help prints that command's usage and exits 0", async (command) => {
    const { code, stdout } = await cli([...command.split(" "), "--help"]).done;
    expect(code).toBe(0);
    expect(stdout).toContain(`Usage: videoforge ${command} [options]`);
  });

  it("without a command prints the usage and exits 1", async () => {
    const { code, stderr } = await cli([]).done;
    expect(code).toBe(1);
    expect(stderr).toMatch(/^Usage: videoforge/);
  });

  it.each([
    [["bench", "--reps", "abc"], /option '--reps <n>' argument 'abc' is invalid\. Expected a whole number ≥ 1/],
    [["bench", "--reps", "1.5"], /option '--reps <n>' argument '1\.5' is invalid/],
    [["bench", "--seconds", "0"], /option '--seconds <n>' argument '0' is invalid\. Expected a number > 0/],
    [["bench", "--size", "huge"], /--size must be one of quick, full/],
    [["bench", "--memory", "--scaling"], /option '--memory' cannot be used with option '--scaling'/],
    [["encode", "x.mp4", "--out", "OUT", "--no-such-flag"], /unknown option '--no-such-flag'/],
    [
      ["encode", "x.mp4", "--out", "OUT", "--chunk-seconds", "two"],
      /option '--chunk-seconds <n>' argument 'two' is invalid/,
    ],
    [["encode"], /missing required argument 'file'/],
    [["encode", "x.mp4", "--out", "OUT", "--trim", "12-5"], /The end of --trim must be after its start/],
    [["encode", "x.mp4", "--out", "OUT", "--trim", "1:75-"], /Expected START-END in seconds or \[h:\]m:s/],
    [["submit", "x.mp4", "--packaging", "hls"], /argument 'hls' is invalid\. Allowed choices are cmaf, ts/],
    [["up", "--port", "http"], /option '--port <port>' argument 'http' is invalid\. Expected a port number/],
    [["jobs", "--api", "127.0.0.1:8080"], /option '--api <url>' argument '127\.0\.0\.1:8080' is invalid/],
    [["jobs", "extra"], /too many arguments for 'jobs'/],
    [["download", "job1"], /required option '-o, --out <dir>' not specified/],
    [["submit", "x.mp4", "--out", "OUT"], /--out needs --wait/],
    [["frobnicate"], /unknown command 'frobnicate'/],
  ])("%j exits 1 naming the problem before doing any work", async (args, message) => {
    const out = join(dir, `never-${Math.random().toString(36).slice(2)}`);
    const { code, stdout, stderr } = await cli(args.map((a) => (a === "OUT" ? out : a))).done;
    expect(code).toBe(1);
    expect(stderr).toMatch(message);
    expect(stderr + stdout).not.toContain("NaN");
    // nothing was started: no output folder, no upload
    await expect(access(out)).rejects.toThrow();
  });

  it("loads only what a command needs: --help no AWS SDK, up no bench and no playwright-core", async () => {
    const help = join(dir, "trace-help.txt");
    expect((await cli(["--help"], { VIDEOFORGE_IMPORT_TRACE: help }, ["--import", IMPORT_TRACE]).done).code).toBe(0);
    const helpModules = await readFile(help, "utf8");
    expect(helpModules).toContain("/packages/cli/src/program.ts");
    expect(helpModules).not.toMatch(/@aws-sdk|packages\/local\/|packages\/core\/src\/index\.ts/);

    const trace = join(dir, "trace-up.txt");
    const up = cli(["up", "--port", "0", "--data-dir", join(dir, "data-trace")], { VIDEOFORGE_IMPORT_TRACE: trace }, [
      "--import",
      IMPORT_TRACE,
    ]);
    try {
      const deadline = Date.now() + 30_000;
      while (!/is up: /.test(up.out()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(up.out()).toContain("is up: ");
    } finally {
      up.child.kill("SIGINT");
      const { code, stderr } = await up.done;
      expect(code, stderr).toBe(0);
    }
    const upModules = await readFile(trace, "utf8");
    // the tracer sees the command's real imports (the local cloud) …
    expect(upModules).toContain("/packages/local/src/");
    // … and none of the bench's (its list of sizes aside, which the parser needs)
    expect(upModules).not.toMatch(/playwright-core|packages\/cli\/src\/bench(?!\/sizes\.ts)/);
  }, 60_000);
});

/** Every file under `root`, as paths relative to it. */
async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .sort();
}

describe("videoforge submit --wait --out / download", () => {
  const env = useTestCloud({ chunkSeconds: 1 });

  it("writes every stored output of the job, byte for byte, through the API's URLs", async () => {
    const { cloud } = env;
    const auth = ["--api", cloud.api.url, "--token", cloud.token];
    const viaSubmit = join(env.dir, "submitted");
    const viaDownload = join(env.dir, "downloaded");

    // act
    const submitted = await cli([
      "submit",
      await makeFixture("tiny-2s", env.dir),
      ...auth,
      "--ladder",
      "240p",
      "--formats",
      "h264,vp9,m4a",
      "--poster-at",
      "1.2",
      "--wait",
      "--out",
      viaSubmit,
    ]).done;
    expect(submitted.code, submitted.stderr).toBe(0);
    const jobId = submitted.stdout.trim();
    const downloaded = await cli(["download", jobId, ...auth, "--out", viaDownload]).done;
    expect(downloaded.code, downloaded.stderr).toBe(0);

    // assert: the same files as the job's objects in the outputs bucket, with the same bytes
    const bucket = cloud.cloud.cfg.buckets.outputs;
    const prefix = `jobs/${jobId}/`;
    const stored = await cloud.cloud.deps.store.list(bucket, prefix);
    const names = stored.map((o) => o.key.slice(prefix.length)).sort();
    expect(names).toEqual(
      expect.arrayContaining([
        "240p.mp4",
        "240p-vp9.webm",
        "audio.m4a",
        "poster.jpg",
        "hls/master.m3u8",
        "hls/240p/index.m3u8",
        "hls/240p/init.mp4",
        "hls/240p-vp9/init.mp4",
        "hls/audio/index.m3u8",
        "dash/manifest.mpd",
        "storyboard/storyboard.vtt",
        "storyboard/sheet_000.jpg",
      ]),
    );
    for (const rep of ["240p", "240p-vp9", "audio"])
      expect(names.filter((n) => n.startsWith(`hls/${rep}/seg_`) && n.endsWith(".m4s")).length, rep).toBeGreaterThan(0);
    expect(await filesUnder(viaSubmit)).toEqual(names);
    expect(await filesUnder(viaDownload)).toEqual(names);
    await mkdir(join(env.dir, "stored"), { recursive: true });
    for (const name of names) {
      const original = join(env.dir, "stored", name.replaceAll("/", "_"));
      await cloud.cloud.deps.store.download(bucket, prefix + name, original);
      const bytes = await readFile(original);
      expect((await readFile(join(viaSubmit, name))).equals(bytes), name).toBe(true);
      expect((await readFile(join(viaDownload, name))).equals(bytes), name).toBe(true);
    }
    expect((await decodedVideo(join(viaDownload, "240p.mp4"))).frames).toBe(50);
    // the poster is the frame at --poster-at (testsrc2's clock moves: 0.3 s earlier is another picture)
    const frameAt = async (t: number) => {
      const out = join(env.dir, `frame-${t}.png`);
      await ffmpeg(["-ss", String(t), "-i", join(viaDownload, "240p.mp4"), "-frames:v", "1", out]);
      return out;
    };
    const poster = join(viaDownload, "poster.jpg");
    const [atChosen, earlier] = [
      await ssim(defaultFfmpeg(), poster, await frameAt(1.2)),
      await ssim(defaultFfmpeg(), poster, await frameAt(0.9)),
    ];
    expect(atChosen).toBeGreaterThan(0.9);
    expect(atChosen).toBeGreaterThan(earlier + 0.02);
  }, 120_000);

  it("refuses a job that does not exist or has not finished", async () => {
    const { cloud } = env;
    const missing = await cli([
      "download",
      "nosuchjob0000000",
      "--api",
      cloud.api.url,
      "--token",
      cloud.token,
      "--out",
      join(env.dir, "none"),
    ]).done;
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/404 not_found/);
  });
});
