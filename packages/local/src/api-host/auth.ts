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

const UsersFile = z.object({
  users: z.record(z.string(), z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), createdAt: z.string() })),
});
type Users = z.infer<typeof UsersFile>["users"];

const UserName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/i, "user names are letters, digits, '.', '_' or '-' (at most 63)");

const sha256 = (token: string) => createHash("sha256").update(token).digest();
const newToken = () => `vf_${randomBytes(24).toString("base64url")}`;

export interface LocalAuth {
  /** The default user's token, for this machine's own CLI and dashboard. */
  token: string;
  /** True when the token was made by this start (print it once). */
  created: boolean;
  /**
   * Who holds this bearer token, or null. Reads auth.json again when it changed, so removals and rotations apply
   * at once.
   */
  identify(authorization: string | undefined): string | null;
  addUser(name: string): Promise<string>;
  /** Remove a user: their token stops working at once, in every server on this data directory. */
  removeUser(name: string): Promise<void>;
  /**
   * A new token for a user (printed once); the old one stops working at once. The default user's is also written
   * to `token`.
   */
  rotateToken(name: string): Promise<string>;
  /** The users by name, with when each was made. */
  listUsers(): { name: string; createdAt: string }[];
}

export async function loadLocalAuth(dataDir: string): Promise<LocalAuth> {
  const usersPath = join(dataDir, USERS_FILE);
  const tokenPath = join(dataDir, TOKEN_FILE);
  let users: Users = await readFile(usersPath, "utf8").then(
    (text) => UsersFile.parse(JSON.parse(text)).users,
    (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return {};
      throw new Error(
        `${usersPath} is not a valid users file (${err.message}); move it away to start with a new token`,
      );
    },
  );
  const save = async () => {
    await writeFile(usersPath, JSON.stringify({ users }, null, 2), { mode: 0o600 });
    await chmod(usersPath, 0o600);
    seenVersion = version();
  };

  const version = () => {
    const st = statSync(usersPath, { throwIfNoEntry: false });
    return st ? `${st.mtimeMs}:${st.size}:${st.ino}` : "";
  };
  let seenVersion = version();
  /**
   * auth.json as it is now: `videoforge users add/remove` and token rotation write it while a
   * server runs. The file replaces what was known, so a removed user is gone at once; a file
   * that cannot be read lets nobody in rather than keep stale users.
   */
  const reloadIfChanged = (): void => {
    const now = version();
    if (now === seenVersion) return;
    seenVersion = now;
    try {
      users = UsersFile.parse(JSON.parse(readFileSync(usersPath, "utf8"))).users;
    } catch {
      users = {};
    }
  };

  let token = await readFile(tokenPath, "utf8").then(
    (t) => t.trim(),
    () => "",
  );
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
    get token() {
      return token;
    },
    created,
    identify(authorization) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
      if (!m) return null;
      // a stat per request: cheap, and a removed user or a rotated token is refused from the next one
      reloadIfChanged();
      return Object.entries(users).find(([, user]) => matches(user.sha256, m[1]!))?.[0] ?? null;
    },
    async addUser(name) {
      const valid = UserName.parse(name);
      reloadIfChanged();
      if (users[valid]) throw new Error(`user ${valid} already exists`);
      const t = newToken();
      users[valid] = { sha256: sha256(t).toString("hex"), createdAt: new Date().toISOString() };
      await save();
      return t;
    },
    async removeUser(name) {
      reloadIfChanged();
      if (!users[name]) throw new Error(`no user ${name}`);
      if (name === DEFAULT_USER)
        throw new Error(`${DEFAULT_USER} is this machine's own user; rotate its token instead`);
      delete users[name];
      await save();
    },
    async rotateToken(name) {
      reloadIfChanged();
      const user = users[name];
      if (!user) throw new Error(`no user ${name}`);
      const t = newToken();
      users[name] = { ...user, sha256: sha256(t).toString("hex") };
      if (name === DEFAULT_USER) {
        await writeFile(tokenPath, t + "\n", { mode: 0o600 });
        await chmod(tokenPath, 0o600);
        token = t;
      }
      await save();
      return t;
    },
    listUsers: () => {
      reloadIfChanged();
      return Object.entries(users).map(([name, u]) => ({ name, createdAt: u.createdAt }));
    },
  };
}

function matches(hexHash: string, token: string): boolean {
  return timingSafeEqual(Buffer.from(hexHash, "hex"), sha256(token));
}
