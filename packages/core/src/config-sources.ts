/**
 * Where configuration values come from besides plain VIDEOFORGE_* variables: the SST links
 * the stacks attach to each Lambda and task. This module imports nothing, so the stacks can
 * share its link names without pulling the SDK into the SST program.
 */

export type Env = Record<string, string | undefined>;

/** Names of the SST links the stacks create; `Resource.<name>` at runtime. */
export const LINK = {
  table: "Table",
  uploads: "Uploads",
  work: "Work",
  outputs: "Outputs",
  bus: "Bus",
  /** The Fargate task definition that runs task-runtime handlers. */
  worker: "Worker",
} as const;

/** Linked resources by name, as SST's `Resource` exposes them. */
export type LinkedResources = Readonly<Record<string, unknown>>;

/** The config variable each `{ name }` link fills. */
const NAMED_LINKS: ReadonlyArray<readonly [link: string, variable: string]> = [
  [LINK.table, "VIDEOFORGE_TABLE"],
  [LINK.uploads, "VIDEOFORGE_UPLOADS_BUCKET"],
  [LINK.work, "VIDEOFORGE_WORK_BUCKET"],
  [LINK.outputs, "VIDEOFORGE_OUTPUTS_BUCKET"],
  [LINK.bus, "VIDEOFORGE_BUS"],
];

function nameOf(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || !("name" in value)) return undefined;
  const name = (value as { name: unknown }).name;
  return typeof name === "string" && name !== "" ? name : undefined;
}

/**
 * `SST_RESOURCE_<Name>` variables hold each link as JSON. Fargate tasks and `sst dev`
 * commands get them in plain sight (Lambda gets an encrypted file that `Resource` reads).
 */
export function resourcesFromEnv(env: Env): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(env)) {
    if (!key.startsWith("SST_RESOURCE_") || !raw) continue;
    try {
      out[key.slice("SST_RESOURCE_".length)] = JSON.parse(raw) as unknown;
    } catch {
      throw new Error(`${key} is not JSON: an SST link must be a JSON object`);
    }
  }
  return out;
}

/**
 * The environment the config reads, with SST links filled in under the VIDEOFORGE_* names.
 * A variable set explicitly wins over a link, so a local run or a test can point anywhere.
 */
export function withLinkedResources(env: Env, linked: LinkedResources = {}): Env {
  const resources = { ...resourcesFromEnv(env), ...linked };
  const fromLinks: Env = {};
  for (const [link, variable] of NAMED_LINKS) {
    const name = nameOf(resources[link]);
    if (name) fromLinks[variable] = name;
  }
  const explicit = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  return { ...fromLinks, ...explicit };
}
