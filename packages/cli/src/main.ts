import { buildProgram } from "./program.ts";

// Usage errors (unknown option, bad value, missing argument) are written and exited by
// commander with status 1 before any action runs; a failing action lands here.
try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`videoforge: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
