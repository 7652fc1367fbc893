import { tally } from "../reliability/tally.ts";

/**
 * One attack from issue 12, tried for real. Counted as tried before it runs; if its
 * assertions fail (the attack got through), it is also counted as one that worked, so the
 * reliability summary shows "attacks that worked" next to "attacks tried".
 */
export async function attack(what: string, run: () => Promise<void> | void): Promise<void> {
  tally("attack", what);
  try {
    await run();
  } catch (err) {
    tally("attackWorked", what);
    throw err;
  }
}
