import { parseArgs } from "node:util";
import { runCommand, usage } from "./commands.ts";

const argv = process.argv.slice(2);
const command = argv[0];
try {
  const { values, positionals } = parseArgs({
    args: argv.slice(1),
    allowPositionals: true,
    options: {
      out: { type: "string", short: "o" },
      ladder: { type: "string" },
      json: { type: "boolean" },
      api: { type: "string" },
      wait: { type: "boolean" },
      port: { type: "string" },
      host: { type: "string" },
      "data-dir": { type: "string" },
      token: { type: "string" },
      "no-auth": { type: "boolean" },
      all: { type: "boolean" },
      "chunk-seconds": { type: "string" },
      seconds: { type: "string" },
      reps: { type: "string" },
      size: { type: "string" },
      source: { type: "string" },
      keep: { type: "string" },
      png: { type: "string" },
      orchestration: { type: "boolean" },
      memory: { type: "boolean" },
      scaling: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (!command || values.help || command === "help") {
    process.stdout.write(usage);
    process.exit(command ? 0 : 1);
  }
  process.exitCode = await runCommand(command, positionals, values);
} catch (err) {
  process.stderr.write(`videoforge: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
