import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Envelope } from "@videoforge/events";

export interface DeadLetter {
  id: string;
  queue: string;
  subscription: string;
  envelope: Envelope;
  error: string;
  attempts: number;
  failedAt: string;
}

/** Dead letters as JSON files, one folder per queue: persistent, listable, easy to inspect by hand. */
export function deadLetterStore(dir: string) {
  const file = (queue: string, id: string) => join(dir, queue, `${id}.json`);
  return {
    async put(letter: DeadLetter): Promise<void> {
      await mkdir(join(dir, letter.queue), { recursive: true });
      await writeFile(file(letter.queue, letter.id), JSON.stringify(letter, null, 2));
    },
    async list(): Promise<DeadLetter[]> {
      const queues = await readdir(dir).catch(() => [] as string[]);
      const letters: DeadLetter[] = [];
      for (const q of queues) {
        for (const f of await readdir(join(dir, q))) {
          if (f.endsWith(".json")) letters.push(JSON.parse(await readFile(join(dir, q, f), "utf8")) as DeadLetter);
        }
      }
      return letters.sort((a, b) => a.failedAt.localeCompare(b.failedAt));
    },
    async remove(letter: Pick<DeadLetter, "queue" | "id">): Promise<void> {
      await rm(file(letter.queue, letter.id), { force: true });
    },
  };
}
export type DeadLetterStore = ReturnType<typeof deadLetterStore>;
