import { describe, expect, it } from "vitest";
import { concurrencyLimit } from "./slots.ts";

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
