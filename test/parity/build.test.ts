import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { BUILD_DIR, functionArtifacts, NODE_MAJOR } from "../../stacks/artifacts.ts";
import { HANDLER_ENTRY } from "../../stacks/rules.ts";
import { readManifest, REQUIRE_BANNER } from "../../stacks/build-artifacts.ts";

/**
 * What `npm run build:aws` wrote is what the deploy and the image use: one manifest, bundles
 * that load on the Lambda's Node major, files a user that does not own them can read, and a
 * Dockerfile that installs the same ffmpeg and copies the same bundle. No Docker engine here,
 * so the Dockerfile is checked for what can be checked without building it.
 */
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const OUT = join(ROOT, BUILD_DIR);
const NODE = join(ROOT, "node_modules/node/bin/node");
const manifest = readManifest(ROOT);
const dockerfile = readFileSync(join(ROOT, "packages/worker/Dockerfile"), "utf8");

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? [join(dir, e.name), ...walk(join(dir, e.name))] : [join(dir, e.name)],
  );
}

describe("the artifact build", () => {
  it("lists every zip function (or says why one is missing) with its size and sha256", () => {
    expect(manifest.node.major).toBe(NODE_MAJOR);
    for (const [name, fn] of Object.entries(functionArtifacts)) {
      if (fn.kind !== "zip") continue;
      // a topology handler's function is the generic entry, bundled with its name
      const entry = join(ROOT, "packages/functions/src/lambda", `${"handler" in fn ? HANDLER_ENTRY : fn.entry}.ts`);
      const key = `functions/${name}/index.mjs`;
      if (!existsSync(entry)) {
        expect(manifest.skipped[name]).toMatch(/does not exist|no /);
        continue;
      }
      const a = manifest.artifacts[key];
      expect(a, key).toBeDefined();
      expect(statSync(join(OUT, key)).size).toBe(a!.bytes);
    }
    expect(manifest.artifacts["worker/main.mjs"]!.bytes).toBe(statSync(join(OUT, "worker/main.mjs")).size);
  });

  it("bundles that load on Node 22: the banner gives `require` under an alias, `node --check` passes", () => {
    expect(execFileSync(NODE, ["--version"], { encoding: "utf8" })).toMatch(new RegExp(`^v${NODE_MAJOR}\\.`));
    const bundles = Object.keys(manifest.artifacts).filter((k) => k.endsWith(".mjs"));
    expect(bundles.length).toBeGreaterThanOrEqual(8);
    for (const b of bundles) {
      const file = join(OUT, b);
      expect(readFileSync(file, "utf8").startsWith(REQUIRE_BANNER), b).toBe(true);
      execFileSync(NODE, ["--check", file], { stdio: "pipe" });
    }
  });

  it("every file is readable by others, executables and directories are 0755", () => {
    for (const p of [OUT, ...walk(OUT)]) {
      const mode = statSync(p).mode & 0o777;
      const executable = statSync(p).isDirectory() || /\/ffmpeg\/(bin|libexec)\/|ld-linux/.test(p);
      expect(`${p.slice(OUT.length)} ${mode.toString(8)}`).toBe(
        `${p.slice(OUT.length)} ${(executable ? 0o755 : 0o644).toString(8)}`,
      );
    }
  });

  it("one ffmpeg: the collected Debian build runs by itself and the manifest names it", () => {
    const ff = manifest.ffmpeg!;
    expect(ff.version).toMatch(/^5\.1\.\d+/);
    expect(ff.debian).toBe("bookworm");
    const out = execFileSync(join(OUT, "ffmpeg/bin/ffprobe"), ["-version"], {
      encoding: "utf8",
      env: { PATH: "/nonexistent" },
    });
    expect(out).toContain(`ffprobe version ${ff.version}`);
    // filters the chunk encoder runs: a target SSIM is measured with ssim
    const filters = execFileSync(join(OUT, "ffmpeg/bin/ffmpeg"), ["-hide_banner", "-filters"], {
      encoding: "utf8",
      env: { PATH: "/nonexistent" },
    });
    for (const name of ["ssim", "scale", "setpts", "trim"]) expect(filters).toMatch(new RegExp(`^ \\S+ ${name} `, "m"));
    // the libraries ldd lists and the loader travel with it
    expect(existsSync(join(OUT, "ffmpeg/lib/ld-linux-x86-64.so.2"))).toBe(true);
    expect(existsSync(join(OUT, "ffmpeg/lib/libavcodec.so.59"))).toBe(true);
  });
});

describe("the worker image (packages/worker/Dockerfile)", () => {
  it("builds on Node 22 bookworm in both stages and runs the same build script", () => {
    const froms = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
    expect(froms).toEqual([`node:${NODE_MAJOR}-bookworm-slim`, `node:${NODE_MAJOR}-bookworm-slim`]);
    expect(dockerfile).toMatch(/stacks\/build-artifacts\.ts --worker/);
  });

  it("installs Debian's ffmpeg pinned to the version the build collected", () => {
    const pin = /ffmpeg=(\S+)/.exec(dockerfile)?.[1];
    expect(pin).toBe(manifest.ffmpeg!.debianPackage);
  });

  it("copies files the build wrote, and the build context lets the script in", () => {
    const copies = [...dockerfile.matchAll(/^COPY\s+--from=build\s+(\S+)\s+(\S+)/gm)].map((m) => m[1]!);
    expect(copies.length).toBeGreaterThan(0);
    for (const src of copies) expect(existsSync(join(ROOT, src.replace(/^\/src\//, ""))), src).toBe(true);
    const ignore = readFileSync(join(ROOT, "packages/worker/Dockerfile.dockerignore"), "utf8");
    expect(ignore).toMatch(/^!stacks\/build-artifacts\.ts$/m);
    expect(ignore).toMatch(/^!stacks\/artifacts\.ts$/m);
  });
});
