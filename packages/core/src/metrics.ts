/**
 * Operator metrics as CloudWatch embedded-metric-format (EMF) log lines: on Lambda and
 * Fargate, CloudWatch Logs turns each line into a metric point with no API call and no
 * extra permission; locally the same lines land in the log file. The stacks alarm on
 * these names (stacks/alarms.ts), so they are one list.
 */
import { writeLogLine } from "./log.ts";

export const METRICS_NAMESPACE = "videoforge";

export const METRIC_UNITS = {
  JobsCompleted: "Count",
  JobsFailed: "Count",
  DeadLetterErrors: "Count",
  SweeperRedrives: "Count",
  ChunkEncodeSeconds: "Seconds",
  QueueWaitSeconds: "Seconds",
} as const;

export type MetricName = keyof typeof METRIC_UNITS;

/**
 * One EMF document. No dimensions (`Dimensions: [[]]`): the alarms watch the totals, and
 * per-job dimensions would create a metric per job. `fields` ride along as log context.
 */
export function emfDocument(
  name: MetricName,
  value: number,
  fields: Record<string, unknown> = {},
  now = Date.now(),
): Record<string, unknown> {
  return {
    ...fields,
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        { Namespace: METRICS_NAMESPACE, Dimensions: [[]], Metrics: [{ Name: name, Unit: METRIC_UNITS[name] }] },
      ],
    },
    [name]: value,
  };
}

/** Emit one metric point (jobId and the like go in `fields`, searchable in Logs Insights). */
export function putMetric(name: MetricName, value: number, fields: Record<string, unknown> = {}): void {
  writeLogLine(JSON.stringify(emfDocument(name, value, { metric: name, ...fields })));
}
