import { z } from "zod";
import { EnvSchema } from "@videoforge/core/config";

/**
 * Deploy-time switches, read once here (the shell that runs `sst deploy` sets them):
 *
 * - `VIDEOFORGE_OPEN_SIGNUP=true`: anyone may register in the user pool (Cognito self
 *   sign-up). Off by default: an administrator creates users (`videoforge users add EMAIL
 *   --aws`, AdminCreateUser), so nobody else can run encodes on the owner's account.
 * - `VIDEOFORGE_ALARM_EMAIL=ops@example.com`: subscribe this address to the alarm topic
 *   (the operator confirms once from the mail AWS sends). Without it the topic has no
 *   subscriber; add one in the console or with `aws sns subscribe`.
 * - `VIDEOFORGE_LAMBDA_CHUNK_CPU_SECONDS=0`: which chunks the chunker sends to the encoder's
 *   Lambda (its estimate of a chunk's CPU-seconds at most this; 0: every chunk on Fargate);
 *   unset, the price break-even (events/src/topology.ts). Passed on to the chunker's runtimes.
 */
const DeployEnv = z.object({
  VIDEOFORGE_OPEN_SIGNUP: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      const value = raw?.trim() || "false";
      if (value === "true" || value === "false") return value === "true";
      ctx.addIssue({ code: "custom", message: `must be true or false, got "${raw}"` });
      return z.NEVER;
    }),
  VIDEOFORGE_ALARM_EMAIL: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      const value = raw?.trim() || undefined;
      if (value === undefined || z.email().safeParse(value).success) return value;
      ctx.addIssue({ code: "custom", message: `must be an email address, got "${raw}"` });
      return z.NEVER;
    }),
  // checked by the schema the chunker reads it with, so a value its runtime would refuse fails the deploy instead
  VIDEOFORGE_LAMBDA_CHUNK_CPU_SECONDS: EnvSchema.shape.VIDEOFORGE_LAMBDA_CHUNK_CPU_SECONDS,
});

export interface DeploySettings {
  openSignUp: boolean;
  alarmEmail?: string;
  /** Runtime variables the operator set, for the functions and the task that run the media steps. */
  mediaEnvironment: Record<string, string>;
}

/** The deploy-time switches of an environment; a malformed one fails the deploy, naming the variable. */
export function deploySettings(env: Record<string, string | undefined>): DeploySettings {
  const parsed = DeployEnv.safeParse(env);
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; "));
  // unset, the runtime's own default applies: nothing is passed
  const lambdaChunk: Record<string, string> = env.VIDEOFORGE_LAMBDA_CHUNK_CPU_SECONDS?.trim()
    ? { VIDEOFORGE_LAMBDA_CHUNK_CPU_SECONDS: String(parsed.data.VIDEOFORGE_LAMBDA_CHUNK_CPU_SECONDS) }
    : {};
  return {
    openSignUp: parsed.data.VIDEOFORGE_OPEN_SIGNUP,
    alarmEmail: parsed.data.VIDEOFORGE_ALARM_EMAIL,
    mediaEnvironment: lambdaChunk,
  };
}

// the stacks' one read of the deploying shell's environment (the runtime's is packages/core/src/config.ts)
export const { openSignUp, alarmEmail, mediaEnvironment } = deploySettings(process.env);

/** `prod` keeps its data (buckets, table, user pool) and runs full-size tasks. */
export const isProd = $app.stage === "prod";
/** Every other stage is a developer's: small tasks, fewer of them. */
export const isDevStage = !isProd;

/** Where `videoforge up` serves the dashboard: dev stages also accept sign-ins from it. */
export const LOCAL_DASHBOARD_URL = "http://127.0.0.1:8080";

/**
 * Where `videoforge login` listens for the hosted UI's redirect (packages/cli, its default
 * `--port`): every stage lists it, so the CLI can sign in against any deployed API.
 */
export const CLI_CALLBACK_URL = "http://localhost:8765/callback";
