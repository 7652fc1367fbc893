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

/** `videoforge dlq list` / `videoforge dlq redrive ID|--all`, through a running `up`. */
export async function dlqCommand(args: string[], all: boolean, client: ApiClient): Promise<number> {
  const [sub, id] = args;
  const { deadLetters } = await client.call<{ deadLetters: DeadLetterRow[] }>("GET", "/admin/dead-letters");
  if (sub === "list" || sub === undefined) {
    if (!deadLetters.length) process.stdout.write("no dead letters\n");
    for (const l of deadLetters) {
      const chunk = l.chunk === null ? "" : ` chunk ${l.chunk}`;
      process.stdout.write(`${l.id}  ${l.failedAt}  ${l.queue}  ${l.event}  job ${l.jobId ?? "-"}${chunk}  ${l.attempts} attempts\n    ${l.error.split("\n")[0]}\n`);
    }
    return 0;
  }
  if (sub === "redrive") {
    const ids = all ? deadLetters.map((l) => l.id) : id ? [id] : [];
    if (!ids.length) throw new Error(all ? "no dead letters to redrive" : "name a dead letter id (see `videoforge dlq list`) or pass --all");
    let failed = 0;
    for (const letter of ids) {
      try {
        const res = await client.call<{ rule: string }>("POST", `/admin/dead-letters/${encodeURIComponent(letter)}/redrive`);
        process.stdout.write(`${letter} redriven to ${res.rule}\n`);
      } catch (err) {
        failed++;
        process.stderr.write(`${letter}: ${(err as Error).message}\n`);
      }
    }
    return failed ? 1 : 0;
  }
  throw new Error(`unknown dlq command "${sub}": use list or redrive`);
}

/** `videoforge users add NAME`: a second local user with its own token and its own jobs. */
export async function usersCommand(args: string[], dataDir: string): Promise<number> {
  const [sub, name] = args;
  if (sub !== "add" || !name) throw new Error("usage: videoforge users add NAME [--data-dir DIR]");
  const auth = await loadLocalAuth(dataDir);
  const token = await auth.addUser(name);
  process.stdout.write(`${token}\n`);
  process.stderr.write(`user ${name} added; the token above is shown once (only its hash is kept)\n`);
  return 0;
}
