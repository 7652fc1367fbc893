/**
 * At most `limit` holders at once: `await take()` resolves with a release function once a
 * slot is free, waiters served in arrival order; `wakeAll()` lets every waiter through (a
 * runner that stops). The task runners share it.
 */
export function concurrencyLimit(limit: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return {
    async take(): Promise<() => void> {
      if (running >= limit) await new Promise<void>((r) => waiting.push(r));
      running++;
      return () => {
        running--;
        waiting.shift()?.();
      };
    },
    wakeAll(): void {
      for (const w of waiting.splice(0)) w();
    },
  };
}

/**
 * Threads for an encoder starting now: the cores split among the encoders that will run beside it,
 * counted as the larger of those running or waiting (this one included) and the chunks its job has,
 * at most `slots`. x264 fixes its threads at the start, so an encoder alone on a one-chunk job takes
 * every core, while two chunks on two cores get one thread each even if the second starts a moment
 * later: a 2 + 1 split on two cores was measured slower than 1 + 1 (the encoding stage of a 12 s SD
 * clip 10.6–11.6 s against 6.6–8.1 s).
 */
export function threadShare(
  cores: number,
  slots: number,
  alongside: { running: number; waiting: number; jobChunks: number },
): number {
  const sharing = Math.min(slots, Math.max(alongside.running + alongside.waiting, alongside.jobChunks, 1));
  return Math.max(1, Math.floor(cores / sharing));
}
