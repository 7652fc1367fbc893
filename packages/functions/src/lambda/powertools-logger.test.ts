import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { SerializedError } from "@videoforge/core";
import { powertoolsLogger } from "./powertools-logger.ts";
import { lambdaLogger } from "./runtime.ts";

type Line = Record<string, unknown> & { time: string; level: string; msg: string };

/** What Powertools printed: it writes through a Console on process.stdout (warn and error: stderr). */
let printed: { stream: "stdout" | "stderr"; line: Line }[] = [];

beforeEach(() => {
  // dev mode would print through the global console, and Lambda's own level would override ours
  vi.stubEnv("POWERTOOLS_DEV", "");
  vi.stubEnv("AWS_LAMBDA_LOG_LEVEL", "");
  printed = [];
  for (const stream of ["stdout", "stderr"] as const) {
    vi.spyOn(process[stream], "write").mockImplementation((chunk: string | Uint8Array) => {
      for (const text of String(chunk).split("\n").filter(Boolean)) {
        printed.push({ stream, line: JSON.parse(text) as Line });
      }
      return true;
    });
  }
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe("the Powertools logger (Lambda)", () => {
  it("prints the local lines' shape: ISO time, a level label, msg, the context", () => {
    powertoolsLogger({ fn: "chunker" }).info("invocation started", { jobId: "j1", requestId: "r1" });
    expect(printed).toHaveLength(1);
    const { stream, line } = printed[0]!;
    expect(stream).toBe("stdout");
    expect(new Date(line.time).toISOString()).toBe(line.time);
    expect(line).toMatchObject({ level: "info", msg: "invocation started", fn: "chunker", jobId: "j1" });
    expect(line.requestId).toBe("r1");
    expect(line.service).toBe("videoforge");
  });

  it("drops lines below the configured level", () => {
    const atInfo = powertoolsLogger();
    atInfo.debug("hidden");
    atInfo.info("shown");
    powertoolsLogger({}, { level: "debug" }).debug("shown too");
    const atWarn = lambdaLogger({}, { logLevel: "warn" });
    atWarn.info("hidden");
    atWarn.warn("shown last");
    expect(printed.map(({ line }) => [line.level, line.msg])).toEqual([
      ["info", "shown"],
      ["debug", "shown too"],
      ["warn", "shown last"],
    ]);
  });

  it("keeps an error's stack, code and cause under `err`, as the pino logger does", () => {
    const root = Object.assign(new Error("Throttling: rate exceeded"), { code: "ThrottlingException" });
    const err = new Error("RunTask failed", { cause: root });
    powertoolsLogger({ fn: "launch-task" }).error("task not started", { messageId: "m1", err });
    const { stream, line } = printed[0]!;
    expect(stream).toBe("stderr");
    expect(line).toMatchObject({ level: "error", msg: "task not started", fn: "launch-task", messageId: "m1" });
    const logged = line.err as SerializedError & { cause: SerializedError };
    expect(logged).toMatchObject({ name: "Error", message: "RunTask failed" });
    expect(logged.stack).toContain("powertools-logger.test.ts");
    expect(logged.cause).toMatchObject({ message: root.message, code: "ThrottlingException" });
    expect(logged.cause.stack).toContain("Throttling: rate exceeded");
  });

  it("merges a child's context with its parent's", () => {
    const fn = powertoolsLogger({ fn: "encoder", jobId: "j1" });
    fn.child({ chunk: 4 }).warn("slow chunk", { jobId: "j2" });
    fn.info("parent untouched");
    const [child, parent] = printed.map((p) => p.line);
    expect(child).toMatchObject({ level: "warn", msg: "slow chunk", fn: "encoder", chunk: 4, jobId: "j2" });
    expect(parent).not.toHaveProperty("chunk");
    expect(parent).toMatchObject({ fn: "encoder", jobId: "j1" });
  });
});
