import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";

/**
 * Local API tokens. The first start makes a user `local` with a random token, stores the
 * token in the data directory (mode 0600, where the CLI and `npm start` read it) and only
 * its hash in auth.json. More users (`videoforge users add NAME`) get their own tokens; each
 * sees only their own jobs.
 */
export const DEFAULT_USER = "local";
const TOKEN_FILE = "token";
const USERS_FILE = "auth.json";

const UsersFile = z.object({ users: z.record(z.string(), z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), createdAt: z.string() })) });
type Users = z.infer<typeof UsersFile>["users"];

const UserName = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/i, "user names are letters, digits, '.', '_' or '-' (at most 63)");

const sha256 = (token: string) => createHash("sha256").update(token).digest();
const newToken = () => `vf_${randomBytes(24).toString("base64url")}`;

export interface LocalAuth {
  /** The default user's token, for this machine's own CLI and dashboard. */
  token: string;
  /** True when the token was made by this start (print it once). */
  created: boolean;
  /** Who holds this bearer token, or null. */
  identify(authorization: string | undefined): string | null;
  addUser(name: string): Promise<string>;
}

export async function loadLocalAuth(dataDir: string): Promise<LocalAuth> {
  const usersPath = join(dataDir, USERS_FILE);
  const tokenPath = join(dataDir, TOKEN_FILE);
  const users: Users = await readFile(usersPath, "utf8").then(
    (text) => UsersFile.parse(JSON.parse(text)).users,
    (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return {};
      throw new Error(`${usersPath} is not a valid users file (${err.message}); move it away to start with a new token`);
    },
  );
  const save = async () => {
    await writeFile(usersPath, JSON.stringify({ users }, null, 2), { mode: 0o600 });
    await chmod(usersPath, 0o600);
    seenMtime = statSync(usersPath).mtimeMs;
  };

  let seenMtime = statSync(usersPath, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const reloadIfChanged = (): boolean => {
    const mtime = statSync(usersPath, { throwIfNoEntry: false })?.mtimeMs ?? 0;
    if (mtime === seenMtime) return false;
    seenMtime = mtime;
    const parsed = UsersFile.safeParse(JSON.parse(readFileSync(usersPath, "utf8")));
    if (parsed.success) Object.assign(users, parsed.data.users);
    return parsed.success;
  };

  let token = await readFile(tokenPath, "utf8").then((t) => t.trim(), () => "");
  let created = false;
  if (!token || !users[DEFAULT_USER] || !matches(users[DEFAULT_USER].sha256, token)) {
    token = newToken();
    users[DEFAULT_USER] = { sha256: sha256(token).toString("hex"), createdAt: new Date().toISOString() };
    await writeFile(tokenPath, token + "\n", { mode: 0o600 });
    await chmod(tokenPath, 0o600);
    await save();
    created = true;
  }

  return {
    token,
    created,
    identify(authorization) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
      if (!m) return null;
      const find = () => Object.entries(users).find(([, user]) => matches(user.sha256, m[1]!))?.[0] ?? null;
      // `videoforge users add` writes the file while the server runs: pick new users up on a miss
      return find() ?? (reloadIfChanged() ? find() : null);
    },
    async addUser(name) {
      const valid = UserName.parse(name);
      if (users[valid]) throw new Error(`user ${valid} already exists`);
      const t = newToken();
      users[valid] = { sha256: sha256(t).toString("hex"), createdAt: new Date().toISOString() };
      await save();
      return t;
    },
  };
}

function matches(hexHash: string, token: string): boolean {
  return timingSafeEqual(Buffer.from(hexHash, "hex"), sha256(token));
}
