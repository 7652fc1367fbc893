// `node --import ./import-trace.mjs …`: appends every module URL the process resolves to
// the file named by VIDEOFORGE_IMPORT_TRACE, so a test can see what a command loads.
import { register } from "node:module";

const hook = `
import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (process.env.VIDEOFORGE_IMPORT_TRACE) appendFileSync(process.env.VIDEOFORGE_IMPORT_TRACE, resolved.url + "\\n");
  return resolved;
}
`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);
