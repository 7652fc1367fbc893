import { describe, expect, it } from "vitest";
import { concurrencyLimit, threadShare } from "./slots.ts";

describe("concurrencyLimit", () => {
  it("lets at most `limit` through, then the next waiter in arrival order as each releases", async () => {
    const slots = concurrencyLimit(2);
    const order: string[] = [];
    const a = await slots.take();
    const b = await slots.take();
    const c = slots.take().then((release) => (order.push("c"), release));
    const d = slots.take().then((release) => (order.push("d"), release));
    await new Promise((r) => setTimeout(r, 10));
    expect(order).toEqual([]);
    a();
    (await c)();
    b();
    await d;
    expect(order).toEqual(["c", "d"]);
  });

  it("wakeAll lets every waiter through (a stopping runner)", async () => {
    const slots = concurrencyLimit(1);
    await slots.take();
    const waiters = [slots.take(), slots.take()];
    slots.wakeAll();
    await expect(Promise.all(waiters)).resolves.toHaveLength(2);
  });
});

describe("threadShare", () => {
  const share = (cores: number, slots: number, running: number, waiting: number, jobChunks = 1) =>
    threadShare(cores, slots, { running, waiting, jobChunks });

  it("gives an encoder alone on a one-chunk job every core, and splits them by the encoders beside it", () => {
    expect(share(2, 2, 1, 0)).toBe(2);
    expect(share(2, 2, 2, 0)).toBe(1);
    expect(share(2, 2, 1, 3)).toBe(1);
    // 8 cores, 4 slots: tasks waiting beyond the slots do not shrink the share below cores / slots
    expect(share(8, 4, 2, 0)).toBe(4);
    expect(share(8, 4, 3, 0)).toBe(2);
    expect(share(8, 4, 1, 20)).toBe(2);
    // never zero threads, even for a light task that counts none running
    expect(share(1, 4, 4, 4)).toBe(1);
    expect(share(2, 2, 0, 0)).toBe(2);
  });

  it("splits the cores by the job's chunks when the first starts before the others are announced", () => {
    expect(share(2, 2, 1, 0, 2)).toBe(1);
    expect(share(8, 4, 1, 0, 2)).toBe(4);
    expect(share(8, 4, 1, 0, 40)).toBe(2);
  });
});
