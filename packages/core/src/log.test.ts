import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger, serializeError, setLogSink, type SerializedError } from "./log.ts";

type Line = Record<string, unknown> & { time: string; level: string; msg: string };

/** Runs `act` with the sink capturing, and returns the raw lines. */
function capture(act: () => void): string[] {
  const lines: string[] = [];
  setLogSink((line) => lines.push(line));
  act();
  return lines;
}
const parsed = (lines: string[]) => lines.map((l) => JSON.parse(l) as Line);

afterEach(() => setLogSink());

describe("the pino logger", () => {
  it("writes one JSON object per line: ISO time, a level label, msg, then the context", () => {
    const lines = capture(() => createLogger({ worker: "w1" }).info("job started", { jobId: "j1", chunk: 3 }));
    expect(lines).toHaveLength(1);
    const line = parsed(lines)[0]!;
    expect(new Date(line.time).toISOString()).toBe(line.time);
    expect(line).toEqual({ time: line.time, level: "info", msg: "job started", worker: "w1", jobId: "j1", chunk: 3 });
  });

  it("drops lines below its level: info by default, debug when asked", () => {
    const byDefault = capture(() => {
      const log = createLogger();
      log.debug("hidden");
      log.info("shown");
    });
    expect(parsed(byDefault).map((l) => [l.level, l.msg])).toEqual([["info", "shown"]]);

    const verbose = capture(() => createLogger({}, { level: "debug" }).debug("shown"));
    expect(parsed(verbose).map((l) => [l.level, l.msg])).toEqual([["debug", "shown"]]);

    const quiet = capture(() => {
      const log = createLogger({}, { level: "warn" });
      log.info("hidden");
      log.warn("shown");
      log.error("shown too");
    });
    expect(parsed(quiet).map((l) => l.level)).toEqual(["warn", "error"]);
  });

  it("keeps an error's name, message, stack, code and cause", () => {
    const root = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:4566"), { code: "ECONNREFUSED" });
    const err = new TypeError("upload failed", { cause: root });
    const [line] = parsed(capture(() => createLogger().error("step failed", { err })));
    const logged = line!.err as SerializedError & { cause: SerializedError };
    expect(logged).toMatchObject({ name: "TypeError", message: "upload failed" });
    expect(logged.stack).toContain("TypeError: upload failed");
    expect(logged.stack).toContain("log.test.ts");
    expect(logged.cause).toMatchObject({ name: "Error", message: root.message, code: "ECONNREFUSED" });
    expect(logged.cause.stack).toContain("ECONNREFUSED");
  });

  it("keeps an err that is not an Error as it is", () => {
    const [line] = parsed(capture(() => createLogger().warn("odd failure", { err: { reason: "quota" } })));
    expect(line!.err).toEqual({ reason: "quota" });
  });

  it("merges a child's context with its parent's; a call's own field wins, once", () => {
    const lines = capture(() => {
      const job = createLogger({ worker: "w1", jobId: "j1" }).child({ event: "ChunkReady" });
      job.child({ chunk: 2 }).info("encoding", { jobId: "j2" });
      job.info("parent untouched");
    });
    const [encoding, parent] = parsed(lines);
    expect(encoding).toMatchObject({ msg: "encoding", worker: "w1", event: "ChunkReady", chunk: 2, jobId: "j2" });
    expect(lines[0]!.match(/"jobId"/g)).toHaveLength(1);
    expect(parent).not.toHaveProperty("chunk");
    expect(parent).toMatchObject({ jobId: "j1", event: "ChunkReady" });
  });

  it("follows a sink set after the logger was made (the CLI redirects late)", () => {
    const log = createLogger({ component: "cli" });
    const lines = capture(() => log.info("to the file"));
    expect(parsed(lines)[0]).toMatchObject({ msg: "to the file", component: "cli" });
  });

  it("loses no line when the process exits right after logging", () => {
    // a child that logs a burst, then exits at once: every line must reach the parent's pipe
    const tsx = createRequire(import.meta.url).resolve("tsx");
    const logModule = fileURLToPath(new URL("./log.ts", import.meta.url));
    const script = [
      `const { createLogger } = await import(${JSON.stringify(logModule)});`,
      `const l = createLogger({ pad: "x".repeat(2000) });`,
      `for (let i = 0; i < 500; i++) l.info("line", { i });`,
      `process.exit(0);`,
    ].join("\n");
    const args = ["--import", tsx, "--input-type=module", "-e", script];
    const child = spawnSync(process.execPath, args, { encoding: "utf8" });
    expect(child.status).toBe(0);
    const lines = child.stderr.split("\n").filter(Boolean);
    expect(lines).toHaveLength(500);
    expect((JSON.parse(lines[499]!) as Line).i).toBe(499);
  });
});

describe("serializeError", () => {
  it("cuts a cause chain that loops", () => {
    const err = new Error("loop");
    err.cause = err;
    let depth = 0;
    for (let e: unknown = serializeError(err); typeof e === "object" && e !== null; e = (e as SerializedError).cause) {
      depth++;
    }
    expect(depth).toBeLessThanOrEqual(6);
  });

  it("lists an AggregateError's errors (its own message is often empty)", () => {
    const messages = ["connect ECONNREFUSED ::1:80", "connect ECONNREFUSED 127.0.0.1:80"];
    const err = new AggregateError(
      messages.map((m) => new Error(m)),
      "",
    );
    expect(serializeError(err).errors).toMatchObject(messages.map((message) => ({ message })));
  });
});
