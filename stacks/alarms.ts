import { METRICS_NAMESPACE, type MetricName } from "@videoforge/core/metrics";
import { alarmEmail } from "./config.ts";
import { deadLetters, taskStoppedDlq } from "./failures.ts";

/**
 * Operators hear about failures: CloudWatch alarms on the embedded-metric-format metrics the
 * code writes (namespace `videoforge`, packages/core/src/metrics.ts) and on the handlers
 * that watch for lost work, all published to one SNS topic. Subscribe to it by setting
 * VIDEOFORGE_ALARM_EMAIL at deploy time (stacks/config.ts), or add any subscriber.
 */
export const alarmTopic = new sst.aws.SnsTopic("Alarms");
if (alarmEmail)
  new aws.sns.TopicSubscription("AlarmsEmail", { topic: alarmTopic.arn, protocol: "email", endpoint: alarmEmail });

const actions = { alarmActions: [alarmTopic.arn], okActions: [alarmTopic.arn] };
const metric = (metricName: MetricName) => ({ namespace: METRICS_NAMESPACE, metricName, period: 3600, stat: "Sum" });

/** An alarm that fires when any `metricName` point appears within one period. */
function onAnyPoint(
  name: string,
  args: {
    description: string;
    namespace: string;
    metricName: string;
    statistic: "Sum" | "Maximum";
    period: number;
    dimensions?: Record<string, $util.Input<string>>;
  },
) {
  const { description, ...metricArgs } = args;
  return new aws.cloudwatch.MetricAlarm(name, {
    alarmDescription: description,
    ...metricArgs,
    evaluationPeriods: 1,
    threshold: 0,
    comparisonOperator: "GreaterThanThreshold",
    treatMissingData: "notBreaching",
    ...actions,
  });
}

/** More than 10 % of the jobs that ended in the last hour failed (and at least 3 did). */
export const failedJobRate = new aws.cloudwatch.MetricAlarm("FailedJobRateAlarm", {
  alarmDescription: "More than 10% of jobs failed in the last hour (JobsFailed / (JobsFailed + JobsCompleted))",
  comparisonOperator: "GreaterThanThreshold",
  threshold: 0.1,
  evaluationPeriods: 1,
  treatMissingData: "notBreaching",
  metricQueries: [
    { id: "failed", metric: metric("JobsFailed"), returnData: false },
    { id: "completed", metric: metric("JobsCompleted"), returnData: false },
    {
      id: "rate",
      expression: "IF(FILL(failed, 0) >= 3, FILL(failed, 0) / (FILL(failed, 0) + FILL(completed, 0)), 0)",
      label: "failed job rate",
      returnData: true,
    },
  ],
  ...actions,
});

/** A dead letter the consumer could not handle (DeadLetterErrors), or the consumer itself failing. */
export const deadLetterErrors = onAnyPoint("DeadLetterErrorsAlarm", {
  description: "Dead-letter handling failed: a message stays in a <rule>-dlq queue (see the DeadLetters log)",
  namespace: METRICS_NAMESPACE,
  metricName: "DeadLetterErrors",
  statistic: "Sum",
  period: 300,
});

export const deadLetterFunctionErrors = onAnyPoint("DeadLettersFunctionErrorsAlarm", {
  description: "The DeadLetters function threw: failed jobs may not be marked FAILED",
  namespace: "AWS/Lambda",
  metricName: "Errors",
  dimensions: { FunctionName: deadLetters.name },
  statistic: "Sum",
  period: 300,
});

/** A stopped-task event TaskStopped could not take: its job may wait until the sweeper finds it. */
export const taskStoppedDeadLetters = onAnyPoint("TaskStoppedDlqAlarm", {
  description: "A worker-task stop event was dead-lettered (queue task-stopped-dlq)",
  namespace: "AWS/SQS",
  metricName: "ApproximateNumberOfMessagesVisible",
  dimensions: { QueueName: taskStoppedDlq.nodes.queue.name },
  statistic: "Maximum",
  period: 300,
});

/** The sweeper had to re-drive stalled jobs: something lost an event (SweeperRedrives). */
export const sweeperRedrives = onAnyPoint("SweeperRedrivesAlarm", {
  description: "The sweeper re-drove stalled jobs in the last 15 minutes: an event was lost somewhere",
  namespace: METRICS_NAMESPACE,
  metricName: "SweeperRedrives",
  statistic: "Sum",
  period: 900,
});
