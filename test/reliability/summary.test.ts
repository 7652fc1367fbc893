import { describe, expect, it } from "vitest";
import { formatSummary, summarize } from "./summary.ts";

const line = (kind: string, what: string, n = 1) => JSON.stringify({ kind, what, n });

describe("the reliability summary", () => {
  it("sums n per kind and per what, and skips lines that are not counts", () => {
    const text = [
      line("ownership", "no token: list jobs"),
      line("ownership", "no token: list jobs"),
      line("fault", "storage write cut", 5),
      line("jobCompleted", "after faults", 2),
      '{"kind":"fault","what":"half a li',
      line("nonsense", "x"),
      "",
    ].join("\n");
    const s = summarize(text);
    expect(s.totals).toEqual({
      fault: 5,
      badInput: 0,
      ownership: 2,
      jobCompleted: 2,
      jobFailed: 0,
      jobLost: 0,
      attack: 0,
      attackWorked: 0,
    });
    expect([...s.breakdown.get("ownership")!]).toEqual([["no token: list jobs", 2]]);
    expect(s.unreadable).toBe(2);
    const printed = formatSummary(s);
    expect(printed.split("\n")[0]).toBe(
      [
        "reliability: faults injected 5",
        "bad inputs tried 0",
        "ownership checks 2",
        "jobs completed 2",
        "jobs failed with a reason 0",
        "jobs lost 0",
        "attacks tried 0",
        "attacks that worked 0",
      ].join(" · "),
    );
    expect(printed).toMatch(/ownership\s+2\s+no token: list jobs/);
    expect(printed).not.toMatch(/LOST/);
  });

  it("shouts when a job was lost", () => {
    const printed = formatSummary(summarize(line("jobLost", "job 123 stuck in ENCODING")));
    expect(printed).toContain("jobs lost 1");
    expect(printed).toContain("1 JOB LOST — job 123 stuck in ENCODING");
  });

  it("counts attacks tried and shouts when one worked (issue 12)", () => {
    const tried = [line("attack", "presigned part URL → PutObject"), line("attack", "HLS playlist as .mp4")];
    const quiet = formatSummary(summarize(tried.join("\n")));
    expect(quiet).toContain("attacks tried 2 · attacks that worked 0");
    expect(quiet).not.toMatch(/WORKED/);
    const loud = formatSummary(
      summarize([line("attack", "open dynalite"), line("attackWorked", "open dynalite")].join("\n")),
    );
    expect(loud).toContain("1 ATTACK WORKED — open dynalite");
  });
});
