import { describe, expect, it } from "vitest";
import { byRole, roleOf, sampleTree } from "./memory.ts";
import { spawn } from "node:child_process";

describe("memory sampling", () => {
  it("names the pipeline's processes from their command lines", () => {
    expect(roleOf(["/usr/bin/node", "/w/packages/cli/bin/videoforge.js", "encode", "a.mp4"])).toBe(
      "cloud + API (node)",
    );
    expect(roleOf(["/usr/bin/node", "--import", "/w/tsx/index.mjs", "/w/packages/worker/src/main.ts"])).toBe(
      "task child (node)",
    );
    expect(roleOf(["ffmpeg", "-i", "p.ts", "-filter_complex", "x", "-f", "mpegts", "o.ts"])).toBe("ffmpeg encode");
    expect(roleOf(["/usr/bin/ffprobe", "-v", "error"])).toBe("ffprobe");
    expect(roleOf(["/usr/bin/time", "-f", "%U", "/usr/bin/node", "/w/bin/videoforge.js", "encode", "a.mp4"])).toBe(
      "GNU time",
    );
  });

  it("groups peaks by role with their largest and median", () => {
    const groups = byRole([
      { pid: 1, role: "task child (node)", peakMb: 100 },
      { pid: 2, role: "task child (node)", peakMb: 140 },
      { pid: 3, role: "task child (node)", peakMb: 120 },
      { pid: 4, role: "ffmpeg encode", peakMb: 300 },
    ]);
    expect(groups).toEqual([
      { role: "ffmpeg encode", count: 1, maxMb: 300, medianMb: 300 },
      { role: "task child (node)", count: 3, maxMb: 140, medianMb: 120 },
    ]);
  });

  it("finds a child's peak through /proc while it runs", async () => {
    // a child that holds ~64 MB for a moment
    const child = spawn(
      process.execPath,
      ["-e", "const b = Buffer.alloc(64 * 1024 * 1024, 1); setTimeout(() => console.log(b[0]), 800)"],
      { stdio: "ignore" },
    );
    const sampler = sampleTree(process.pid, 50);
    await new Promise((r) => child.on("close", r));
    const peaks = await sampler.stop();
    const mine = peaks.find((p) => p.pid === child.pid);
    expect(mine?.peakMb).toBeGreaterThan(64);
  });
});
