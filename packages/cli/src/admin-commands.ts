import { loadLocalAuth } from "@videoforge/local";
import type { ApiClient } from "./api-client.ts";

interface DeadLetterRow {
  id: string;
  queue: string;
  rule: string;
  event: string;
  jobId: string | null;
  chunk: number | null;
  attempts: number;
  error: string;
  failedAt: string;
}

/** `videoforge dlq list`: what ran out of retries, through a running `up`. */
export async function dlqList(client: ApiClient): Promise<number> {
  const { deadLetters } = await client.call<{ deadLetters: DeadLetterRow[] }>("GET", "/admin/dead-letters");
  if (!deadLetters.length) process.stdout.write("no dead letters\n");
  for (const l of deadLetters) {
    const chunk = l.chunk === null ? "" : ` chunk ${l.chunk}`;
    process.stdout.write(
      `${l.id}  ${l.failedAt}  ${l.queue}  ${l.event}  job ${l.jobId ?? "-"}${chunk}  ${l.attempts} attempts\n` +
        `    ${l.error.split("\n")[0]}\n`,
    );
  }
  return 0;
}

/** `videoforge dlq redrive ID|--all`: put dead letters back on the bus (their jobs reopen). */
export async function dlqRedrive(client: ApiClient, id: string | undefined, all: boolean): Promise<number> {
  if (id && all) throw new Error("name one dead letter id or pass --all, not both");
  if (!id && !all) throw new Error("name a dead letter id (see `videoforge dlq list`) or pass --all");
  const ids = id
    ? [id]
    : (await client.call<{ deadLetters: DeadLetterRow[] }>("GET", "/admin/dead-letters")).deadLetters.map((l) => l.id);
  if (!ids.length) throw new Error("no dead letters to redrive");
  let failed = 0;
  for (const letter of ids) {
    try {
      const res = await client.call<{ rule: string }>(
        "POST",
        `/admin/dead-letters/${encodeURIComponent(letter)}/redrive`,
      );
      process.stdout.write(`${letter} redriven to ${res.rule}\n`);
    } catch (err) {
      failed++;
      process.stderr.write(`${letter}: ${(err as Error).message}\n`);
    }
  }
  return failed ? 1 : 0;
}

/** `videoforge users remove NAME`: the user's token stops working at once, in a running `up` too. */
export async function usersRemove(name: string, dataDir: string): Promise<number> {
  const auth = await loadLocalAuth(dataDir);
  await auth.removeUser(name);
  process.stderr.write(`user ${name} removed; their token no longer works\n`);
  return 0;
}

/** `videoforge users rotate NAME`: a new token, printed once; the old one stops working at once. */
export async function usersRotate(name: string, dataDir: string): Promise<number> {
  const auth = await loadLocalAuth(dataDir);
  const token = await auth.rotateToken(name);
  process.stdout.write(`${token}\n`);
  process.stderr.write(`user ${name} has a new token, shown once above; the old one no longer works\n`);
  return 0;
}

/** `videoforge users add NAME`: a second local user with its own token and its own jobs. */
export async function usersAdd(name: string, dataDir: string): Promise<number> {
  const auth = await loadLocalAuth(dataDir);
  const token = await auth.addUser(name);
  process.stdout.write(`${token}\n`);
  process.stderr.write(`user ${name} added; the token above is shown once (only its hash is kept)\n`);
  return 0;
}
