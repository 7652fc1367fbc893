/**
 * Deploy-time switches, read once here (the shell that runs `sst deploy` sets them):
 *
 * - `VIDEOFORGE_OPEN_SIGNUP=true`: anyone may register in the user pool (Cognito self
 *   sign-up). Off by default: an administrator creates users (`videoforge users add EMAIL
 *   --aws`, AdminCreateUser), so nobody else can run encodes on the owner's account.
 * - `VIDEOFORGE_ALARM_EMAIL=ops@example.com`: subscribe this address to the alarm topic
 *   (the operator confirms once from the mail AWS sends). Without it the topic has no
 *   subscriber; add one in the console or with `aws sns subscribe`.
 */
export const openSignUp = process.env.VIDEOFORGE_OPEN_SIGNUP === "true";
export const alarmEmail = process.env.VIDEOFORGE_ALARM_EMAIL?.trim() || undefined;

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
