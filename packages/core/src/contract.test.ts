import { describe, expect, it } from "vitest";
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CreateUploadInput, ID_PATTERN, JobStatus, RUNG_NAMES, RungName } from "./contract.ts";
import { JOB_STATUSES } from "./job/status.ts";
import { RUNGS } from "./media/ladder.ts";

const here = dirname(fileURLToPath(import.meta.url));
const events = resolve(here, "../../../events/src");

/** Every module `file` loads at run time (type-only imports erase), followed through relative and workspace paths. */
async function runtimeImports(file: string, seen = new Set<string>()): Promise<Set<string>> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const source = await readFile(file, "utf8");
  for (const [, typeOnly, specifier] of source.matchAll(/^(?:import|export)\s+(type\s+)?[^;]*?from\s+"([^"]+)";/gms)) {
    if (typeOnly || !specifier) continue;
    if (specifier.startsWith(".")) await runtimeImports(resolve(dirname(file), specifier), seen);
    else if (specifier.startsWith("@videoforge/events/")) {
      await runtimeImports(`${events}/${specifier.slice("@videoforge/events/".length)}.ts`, seen);
    } else seen.add(specifier);
  }
  return seen;
}

describe("the API contract", () => {
  it("loads nothing but zod and its own plain modules, so a browser bundle can import it", async () => {
    const loaded = [...(await runtimeImports(resolve(here, "contract.ts")))];

    const packages = loaded.filter((m) => !m.startsWith("/"));
    expect(packages).toEqual(["zod"]);
    // the constants a page imports alone load nothing at all
    for (const plain of ["job/status.ts", "media/ladder.ts", "errors.ts"]) {
      expect(loaded).toContain(resolve(here, plain));
    }
    expect(loaded).toContain(`${events}/ids.ts`);
  });

  it("takes its lists from the domain", () => {
    expect(JobStatus.options).toEqual([...JOB_STATUSES]);
    expect(RUNG_NAMES).toEqual(Object.keys(RUNGS));
    expect(ID_PATTERN.test("abcdef")).toBe(true);
    expect(ID_PATTERN.test("../etc")).toBe(false);
  });

  it("names an unknown rung and the valid ones", () => {
    const result = RungName.safeParse("999p");
    expect(result.error?.issues[0]?.message).toBe(`Unknown rung "999p"; choose from ${RUNG_NAMES.join(", ")}.`);
    const upload = CreateUploadInput.safeParse({ name: "a.mp4", size: 1, ladder: ["720p", "9p"] });
    expect(upload.error?.issues[0]?.path).toEqual(["ladder", 1]);
  });
});
