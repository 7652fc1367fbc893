import { deadLetterQueueName, ruleSpecs, type RuleSpec } from "./rules.ts";
import { dataLinks, handlerGrants, handlerPermissions, lambdaSizing, logging } from "./functions.ts";
import { eventBus } from "./bus.ts";
import { worker } from "./encoder.ts";

/** Dead letters are kept as long as SQS allows, to read and redrive them. */
const FOURTEEN_DAYS = 14 * 24 * 3600;

function targetFunction(spec: RuleSpec, dlq: sst.aws.Queue) {
  const sendToDlq = { actions: ["sqs:SendMessage"], resources: [dlq.arn] };
  const asyncInvoke = (args: aws.lambda.FunctionEventInvokeConfigArgs) => {
    args.maximumEventAgeInSeconds = spec.invoke.maximumEventAgeInSeconds;
    // a function that keeps throwing ends in the same queue as an undeliverable event
    args.destinationConfig = { onFailure: { destination: dlq.arn } };
    return undefined;
  };
  const common = {
    handler: spec.target.handler,
    environment: spec.target.environment,
    runtime: "nodejs20.x",
    logging,
    retries: spec.invoke.maximumRetryAttempts,
    transform: { eventInvokeConfig: asyncInvoke },
  } as const;
  if (spec.target.kind === "task") {
    // the launcher only validates the event and calls RunTask: linking the Task grants
    // ecs:RunTask on its definition and iam:PassRole on its two roles, nothing else
    return new sst.aws.Function(`${spec.id}Launcher`, { ...common, timeout: "30 seconds", memory: "256 MB", link: [worker], permissions: [sendToDlq] });
  }
  return new sst.aws.Function(`${spec.id}Handler`, {
    ...common,
    ...lambdaSizing(spec.handler),
    link: dataLinks,
    permissions: [...handlerPermissions(handlerGrants(spec.handler)), sendToDlq],
  });
}

/**
 * One EventBridge rule per topology entry, pattern verbatim, with the entry's retry policy
 * and its own SQS dead-letter queue, targeting the handler's Lambda or the task launcher.
 */
export const subscriptions = ruleSpecs().map((spec) => {
  // named `<app>-<stage>-<rule>-dlq`: the dead-letter consumer (stacks/failures.ts) reads the rule from it
  const name = deadLetterQueueName($app.name, $app.stage, spec.deadLetter.name);
  const dlq = new sst.aws.Queue(spec.deadLetter.id, { transform: { queue: { name, messageRetentionSeconds: FOURTEEN_DAYS } } });
  const fn = targetFunction(spec, dlq);
  const subscriber = eventBus.subscribe(spec.id, fn, {
    transform: {
      // SST rebuilds the pattern from source/detail-type/detail; set the topology's JSON exactly
      rule: (args) => {
        args.eventPattern = spec.patternJson;
        return undefined;
      },
      target: (args) => {
        args.retryPolicy = spec.retryPolicy;
        args.deadLetterConfig = { arn: dlq.arn };
        return undefined;
      },
    },
  });
  // EventBridge may only drop this rule's failures into this queue
  new aws.sqs.QueuePolicy(`${spec.deadLetter.id}Policy`, {
    queueUrl: dlq.url,
    policy: $jsonStringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: "events.amazonaws.com" },
          Action: "sqs:SendMessage",
          Resource: dlq.arn,
          Condition: { ArnEquals: { "aws:SourceArn": subscriber.nodes.rule.arn } },
        },
      ],
    }),
  });
  return { spec, dlq, fn, subscriber };
});
