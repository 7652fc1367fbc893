import { alarmEmail } from "./config.ts";
import { deadLetters, taskStoppedDlq } from "./failures.ts";

/**
 * Operators hear about failures: CloudWatch alarms on the embedded-metric-format metrics the
 * code writes (namespace `videoforge`, packages/core/src/metrics.ts) and on the handlers
 * that watch for lost work, all published to one SNS topic. Subscribe to it by setting
 * VIDEOFORGE_ALARM_EMAIL at deploy time (stacks/config.ts), or add any subscriber.
 */
export const METRICS_NAMESPACE = "videoforge";

export const alarmTopic = new sst.aws.SnsTopic("Alarms");
if (alarmEmail) new aws.sns.TopicSubscription("AlarmsEmail", { topic: alarmTopic.arn, protocol: "email", endpoint: alarmEmail });

const actions = { alarmActions: [alarmTopic.arn], okActions: [alarmTopic.arn] };
const metric = (metricName: string) => ({ namespace: METRICS_NAMESPACE, metricName, period: 3600, stat: "Sum" });

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
export const deadLetterErrors = new aws.cloudwatch.MetricAlarm("DeadLetterErrorsAlarm", {
  alarmDescription: "Dead-letter handling failed: a message stays in a <rule>-dlq queue (see the DeadLetters log)",
  namespace: METRICS_NAMESPACE,
  metricName: "DeadLetterErrors",
  statistic: "Sum",
  period: 300,
  evaluationPeriods: 1,
  threshold: 0,
  comparisonOperator: "GreaterThanThreshold",
  treatMissingData: "notBreaching",
  ...actions,
});

export const deadLetterFunctionErrors = new aws.cloudwatch.MetricAlarm("DeadLettersFunctionErrorsAlarm", {
  alarmDescription: "The DeadLetters function threw: failed jobs may not be marked FAILED",
  namespace: "AWS/Lambda",
  metricName: "Errors",
  dimensions: { FunctionName: deadLetters.name },
  statistic: "Sum",
  period: 300,
  evaluationPeriods: 1,
  threshold: 0,
  comparisonOperator: "GreaterThanThreshold",
  treatMissingData: "notBreaching",
  ...actions,
});

/** A stopped-task event TaskStopped could not take: its job may wait until the sweeper finds it. */
export const taskStoppedDeadLetters = new aws.cloudwatch.MetricAlarm("TaskStoppedDlqAlarm", {
  alarmDescription: "A worker-task stop event was dead-lettered (queue task-stopped-dlq)",
  namespace: "AWS/SQS",
  metricName: "ApproximateNumberOfMessagesVisible",
  dimensions: { QueueName: taskStoppedDlq.nodes.queue.name },
  statistic: "Maximum",
  period: 300,
  evaluationPeriods: 1,
  threshold: 0,
  comparisonOperator: "GreaterThanThreshold",
  treatMissingData: "notBreaching",
  ...actions,
});

/** The sweeper had to re-drive stalled jobs: something lost an event (SweeperRedrives). */
export const sweeperRedrives = new aws.cloudwatch.MetricAlarm("SweeperRedrivesAlarm", {
  alarmDescription: "The sweeper re-drove stalled jobs in the last 15 minutes: an event was lost somewhere",
  namespace: METRICS_NAMESPACE,
  metricName: "SweeperRedrives",
  statistic: "Sum",
  period: 900,
  evaluationPeriods: 1,
  threshold: 0,
  comparisonOperator: "GreaterThanThreshold",
  treatMissingData: "notBreaching",
  ...actions,
});
