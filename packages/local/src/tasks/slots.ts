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
