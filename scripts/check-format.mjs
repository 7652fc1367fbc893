// The layout check .ci/run and `npm run format:check` run: Biome decides the layout, and no
// line of code is longer than 120 characters (Biome cannot break strings, comments or test
// names, so this names the lines it leaves).
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

const MAX = 120;
const root = resolve(import.meta.dirname, "..");
const biome = spawnSync(resolve(root, "node_modules/.bin/biome"), ["format", "."], { cwd: root, stdio: "inherit" });
const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard", "*.ts", "*.tsx", "*.mjs", "*.js"], {
  cwd: root,
  encoding: "utf8",
})
  .split("\n")
  .filter((f) => f && !f.includes("node_modules/") && !f.endsWith("sst-env.d.ts"));
const long = [];
for (const file of files) {
  let text;
  try {
    text = readFileSync(resolve(root, file), "utf8");
  } catch {
    continue; // deleted in the work tree
  }
  text.split("\n").forEach((line, i) => {
    if ([...line].length > MAX) long.push(`${file}:${i + 1}: ${[...line].length} characters`);
  });
}
for (const line of long) console.error(line);
if (long.length) console.error(`${long.length} line(s) longer than ${MAX} characters`);
if (biome.status !== 0) console.error("Biome would reformat the files above: run `npm run format`");
process.exit(biome.status !== 0 || long.length ? 1 : 0);
