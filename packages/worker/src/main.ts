/**
 * The worker image's entry point, in one of two modes:
 *
 * - **task** (Fargate): the launcher Lambda starts the container with ECS RunTask, passing
 *   the EventBridge envelope in VIDEOFORGE_EVENT, the handler in VIDEOFORGE_HANDLER and its
 *   attempt budget in VIDEOFORGE_TASK_ATTEMPTS (container overrides); locally the task
 *   runner starts this file the same way. Exit 0 = handled, 1 = gave up.
 * - **Lambda** (AWS_LAMBDA_RUNTIME_API set): the image serves a function (chunker,
 *   assembler, finisher: the steps that run ffmpeg on Lambda), named by VIDEOFORGE_HANDLER
 *   (stacks/functions.ts imageFunction), through the Lambda Runtime API.
 *
 * Either way ffmpeg is the image's own (FFMPEG_PATH, or the copy beside the bundle).
 */
import {
  composeDeps,
  createLogger,
  processSettings,
  type FfmpegBinaries,
  type ProcessSettings,
} from "@videoforge/core";
import { handlers } from "@videoforge/functions";
import { eventHandler } from "@videoforge/functions/lambda/event-handler";
import { lambdaDeps, lambdaLogger } from "@videoforge/functions/lambda/runtime";
import type { HandlerName } from "@videoforge/events";
import { taskInput } from "./task-input.ts";
import { runLambdaRuntime } from "./lambda-runtime.ts";

/** Errors no retry can fix: the event itself is wrong. */
const permanent = (err: unknown) => err instanceof Error && err.name === "InvalidEventError";

/** The ffmpeg the composed deps run, for log lines (and an early, clear failure if there is none). */
function ffmpegInUse({ build, origin, ffmpeg }: FfmpegBinaries): Pick<FfmpegBinaries, "build" | "origin" | "ffmpeg"> {
  return { build, origin, ffmpeg };
}

async function task(started: ProcessSettings): Promise<void> {
  const input = taskInput(started.task);
  const deps = composeDeps();
  const handler = handlers[input.handler];
  const context = {
    handler: input.handler,
    event: input.event.name,
    eventId: input.event.id,
    jobId: input.event.detail.jobId,
  };
  deps.log.info("task started", { ...context, attempts: input.attempts, ffmpeg: ffmpegInUse(deps.ffmpeg.binaries) });
  // RunTask reports nothing back to EventBridge, so on Fargate the retries happen here;
  // every handler is idempotent, so running one again is safe
  for (let attempt = 1; ; attempt++) {
    try {
      await handler.handle(deps, input.event);
      return;
    } catch (err) {
      if (attempt >= input.attempts || permanent(err)) throw err;
      deps.log.warn("task attempt failed; retrying", { ...context, attempt, err });
      await new Promise((r) => setTimeout(r, 1000 * 2 ** (attempt - 1)));
    }
  }
}

/**
 * The handler an image function runs: VIDEOFORGE_HANDLER (the stack's variable, as for a
 * task), else the image config's command (argv) or `_HANDLER`; `chunker.handler` → chunker.
 */
export function lambdaHandlerName(
  argv: readonly string[],
  started: Pick<ProcessSettings, "task" | "lambda">,
): HandlerName {
  const raw = started.task.handler || argv[2] || started.lambda.handler || "";
  const name = (raw.split("/").pop() ?? "").split(".")[0] ?? "";
  if (!(name in handlers))
    throw new Error(
      `the image's Lambda command names no handler: "${raw}"; expected one of ${Object.keys(handlers).join(", ")}`,
    );
  return name as HandlerName;
}

function lambda(started: ProcessSettings): Promise<never> {
  return runLambdaRuntime(() => {
    const name = lambdaHandlerName(process.argv, started);
    // the container's deps, composed once: the handler runs with these, the log names their ffmpeg
    const handle = eventHandler(name, lambdaDeps);
    const ffmpeg = ffmpegInUse(lambdaDeps().ffmpeg.binaries);
    const log = lambdaLogger({ handler: name, fn: started.lambda.functionName });
    return async (event, context) => {
      const detail = (event as { detail?: { jobId?: unknown } } | null)?.detail;
      log.info("invocation started", { requestId: context.awsRequestId, jobId: detail?.jobId, ffmpeg });
      await handle(event);
      return null;
    };
  }, started.lambda);
}

// inside the promise: a malformed variable ends as the logged failure below, like any other
const mode = (async () => {
  const started = processSettings();
  return started.lambda.runtimeApi ? lambda(started) : task(started);
})();
mode.then(
  () => process.exit(0),
  (err: unknown) => {
    // pino's write is synchronous: the line is out before the exit
    createLogger().error("task failed", { err });
    process.exit(1);
  },
);
