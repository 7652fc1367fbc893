/**
 * The worker image as a Lambda function (chunker, assembler, finisher run from the image so
 * every ffmpeg step runs one build): a client of the Lambda Runtime API, which a container
 * image must bring itself. Lambda sets AWS_LAMBDA_RUNTIME_API; the loop asks for the next
 * event, runs the handler, and posts its result or error.
 * https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
 */
import type { ProcessSettings } from "@videoforge/core";

export type LambdaHandler = (event: unknown, context: LambdaContext) => Promise<unknown>;

export interface LambdaContext {
  awsRequestId: string;
  functionName: string;
  /** Milliseconds left before Lambda stops the invocation. */
  getRemainingTimeInMillis(): number;
}

const API_VERSION = "2018-06-01";

interface ErrorBody {
  errorType: string;
  errorMessage: string;
  stackTrace: string[];
}

function errorBody(err: unknown): ErrorBody {
  const e = err instanceof Error ? err : new Error(String(err));
  return {
    errorType: e.name,
    errorMessage: e.message,
    stackTrace: (e.stack ?? "")
      .split("\n")
      .slice(1, 20)
      .map((l) => l.trim()),
  };
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<void> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body ?? null),
  });
  // 202 accepted; 413 payload too large, 400 invocation already answered: nothing to retry
  if (!res.ok && res.status !== 202) throw new Error(`runtime API ${url} answered ${res.status}: ${await res.text()}`);
  await res.arrayBuffer().catch(() => undefined);
}

/**
 * Serves invocations until the process is stopped (Lambda freezes and reaps it). A handler
 * that throws answers on /error (so Lambda's async retries and the on-failure destination
 * apply) and the loop goes on; `init` failing is reported on /init/error and exits.
 */
export async function runLambdaRuntime(init: () => LambdaHandler, lambda: ProcessSettings["lambda"]): Promise<never> {
  const api = lambda.runtimeApi;
  if (!api) throw new Error("AWS_LAMBDA_RUNTIME_API is not set: not running as a Lambda function");
  const base = `http://${api}/${API_VERSION}/runtime`;
  let handler: LambdaHandler;
  try {
    handler = init();
  } catch (err) {
    await post(`${base}/init/error`, errorBody(err), {
      "Lambda-Runtime-Function-Error-Type": "Runtime.InitError",
    }).catch(() => undefined);
    throw err;
  }
  for (;;) {
    const next = await fetch(`${base}/invocation/next`);
    if (!next.ok) throw new Error(`runtime API /invocation/next answered ${next.status}`);
    const requestId = next.headers.get("lambda-runtime-aws-request-id") ?? "";
    const deadline = Number(next.headers.get("lambda-runtime-deadline-ms") ?? Date.now() + 900_000);
    const event = (await next.json()) as unknown;
    const context: LambdaContext = {
      awsRequestId: requestId,
      functionName: lambda.functionName ?? "",
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };
    let result: { ok: true; value: unknown } | { ok: false; err: unknown };
    try {
      result = { ok: true, value: await handler(event, context) };
    } catch (err) {
      result = { ok: false, err };
    }
    const at = `${base}/invocation/${encodeURIComponent(requestId)}`;
    if (result.ok) await post(`${at}/response`, result.value);
    else await post(`${at}/error`, errorBody(result.err), { "Lambda-Runtime-Function-Error-Type": "Unhandled" });
  }
}
