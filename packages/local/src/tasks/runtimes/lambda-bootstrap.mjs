// The stand-in for Lambda's managed Node.js runtime (its /var/runtime bootstrap), copied
// beside the function's code by artifact-runner.ts: it loads `_HANDLER` from
// LAMBDA_TASK_ROOT, exactly as Lambda does (`index.handler` → index.mjs, export handler),
// and serves invocations through the Runtime API. Plain JS: it runs on the bare Node the
// function gets, with nothing else reachable.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const api = `http://${process.env.AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime`;
const root = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
const [file, fn] = (process.env._HANDLER ?? "index.handler").split(/\.(?=[^.]+$)/);

const errorBody = (err) => {
  const e = err instanceof Error ? err : new Error(String(err));
  return JSON.stringify({
    errorType: e.name,
    errorMessage: e.message,
    stackTrace: (e.stack ?? "")
      .split("\n")
      .slice(1, 20)
      .map((l) => l.trim()),
  });
};
const post = (path, body, type) =>
  fetch(`${api}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(type ? { "Lambda-Runtime-Function-Error-Type": type } : {}) },
    body,
  });

let handler;
try {
  const ext = [".mjs", ".js", ".cjs"].find((e) => existsSync(join(root, file + e)));
  if (!ext) throw new Error(`Cannot find module '${file}' in ${root}`);
  const mod = await import(pathToFileURL(join(root, file + ext)).href);
  handler = mod[fn];
  if (typeof handler !== "function") throw new Error(`${file}.${fn} is undefined or not exported`);
} catch (err) {
  await post("/init/error", errorBody(err), "Runtime.ImportModuleError").catch(() => {});
  process.stderr.write(`INIT_ERROR ${err instanceof Error ? err.stack : err}\n`);
  process.exit(1);
}

for (;;) {
  const next = await fetch(`${api}/invocation/next`);
  const id = next.headers.get("lambda-runtime-aws-request-id");
  const deadline = Number(next.headers.get("lambda-runtime-deadline-ms"));
  const event = await next.json();
  const context = {
    awsRequestId: id,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    const result = await handler(event, context);
    await post(`/invocation/${id}/response`, JSON.stringify(result ?? null));
  } catch (err) {
    await post(`/invocation/${id}/error`, errorBody(err), "Unhandled");
  }
}
