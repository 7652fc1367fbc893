import { afterEach, describe, expect, it } from "vitest";
import { emfDocument, METRICS_NAMESPACE, putMetric } from "./metrics.ts";
import { setLogSink } from "./log.ts";

describe("EMF metrics", () => {
  afterEach(() => setLogSink((line) => process.stderr.write(line + "\n")));

  it("names the namespace, unit and value CloudWatch extracts", () => {
    const doc = emfDocument("ChunkEncodeSeconds", 4.25, { jobId: "j1" }, 1_700_000_000_000);
    expect(doc).toEqual({
      jobId: "j1",
      ChunkEncodeSeconds: 4.25,
      _aws: {
        Timestamp: 1_700_000_000_000,
        CloudWatchMetrics: [
          {
            Namespace: METRICS_NAMESPACE,
            Dimensions: [[]],
            Metrics: [{ Name: "ChunkEncodeSeconds", Unit: "Seconds" }],
          },
        ],
      },
    });
  });

  it("writes one JSON line per point through the log sink", () => {
    const lines: string[] = [];
    setLogSink((line) => lines.push(line));
    putMetric("JobsFailed", 1, { jobId: "j2" });
    expect(lines).toHaveLength(1);
    const doc = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(doc.JobsFailed).toBe(1);
    expect(doc.jobId).toBe("j2");
    expect(
      (doc._aws as { CloudWatchMetrics: { Metrics: { Unit: string }[] }[] }).CloudWatchMetrics[0]!.Metrics[0]!.Unit,
    ).toBe("Count");
  });
});
