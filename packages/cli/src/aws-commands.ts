import { Option, type Command } from "commander";
import { httpUrl, port } from "./options.ts";

/**
 * The commands for a deployed stage: `videoforge login` (sign in to its API through the
 * Cognito hosted UI) and `videoforge users add EMAIL --aws` (create a user in its pool).
 * Implementations are imported when they run, like every other command.
 */
export function registerLogin(program: Command) {
  program
    .command("login")
    .description(
      "sign in to a deployed API through the Cognito hosted UI (PKCE); later commands with that --api use the tokens",
    )
    .addOption(
      new Option("--api <url>", "the deployed API's URL (the stack's output)").argParser(httpUrl).makeOptionMandatory(),
    )
    .requiredOption("--domain <domain>", "the Cognito domain, e.g. videoforge-prod.auth.eu-west-1.amazoncognito.com")
    .requiredOption("--client-id <id>", "the app client's id")
    .addOption(
      new Option(
        "--port <port>",
        "loopback port of the callback; the app client must list http://localhost:<port>/callback",
      )
        .argParser(port)
        .default(8765),
    )
    .action(async (opts: { api: string; domain: string; clientId: string; port: number }) => {
      const [{ login, credentialsFile }, { jwtClaims }] = await Promise.all([
        import("./login.ts"),
        import("@videoforge/core/auth"),
      ]);
      const stored = await login({
        ...opts,
        onUrl: (url) =>
          process.stdout.write(
            `Open this address in a browser to sign in:\n\n  ${url}\n\nWaiting for the sign-in (Ctrl-C stops)…\n`,
          ),
      });
      const who = jwtClaims(stored.tokens.idToken).email ?? "you";
      process.stdout.write(
        `Signed in as ${String(who)} for ${stored.api}; tokens kept in ${credentialsFile()} (mode 0600).\n`,
      );
      process.exitCode = 0;
    });
}

/**
 * `users add EMAIL --aws --user-pool-id ID`: AdminCreateUser in the stage's pool; the region comes from the pool id.
 */
export async function usersAddAws(email: string, userPoolId: string | undefined, region?: string): Promise<number> {
  if (!userPoolId) throw new Error("--aws needs --user-pool-id (the stack's outputs name it)");
  const [{ CognitoIdentityProviderClient }, { addCognitoUser }] = await Promise.all([
    import("@aws-sdk/client-cognito-identity-provider"),
    import("./cognito-users.ts"),
  ]);
  const client = new CognitoIdentityProviderClient({ region: region ?? userPoolId.split("_")[0] });
  const user = await addCognitoUser(client, userPoolId, email);
  process.stdout.write(
    `Created ${email} in ${userPoolId} (${user.status}): ` +
      "Cognito mailed an invitation with a temporary password; the first sign-in sets a new one.\n",
  );
  return 0;
}
