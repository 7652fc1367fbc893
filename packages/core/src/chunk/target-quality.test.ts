import { describe, expect, it } from "vitest";
import { chosenProbe, CRF_MAX, CRF_MIN, mayEncodeAgain, nextCrf, ssimDb, type Probe } from "./target-quality.ts";

const bounds = { min: CRF_MIN, max: CRF_MAX, step: 0.5 };
const fromDb = (db: number) => 1 - 10 ** (-db / 10);

/** A chunk whose SSIM in dB falls `slope` per CRF step from `at23` dB at CRF 23, capped at `ceilingDb`. */
const chunk =
  (at23: number, slope: number, ceilingDb = Infinity) =>
  (crf: number): number =>
    fromDb(Math.min(ceilingDb, at23 - slope * (crf - 23)));

/** Runs the search as the encoder does (probe budget, re-encodes below target) against a modelled chunk. */
function search(ssimAt: (crf: number) => number, target: number, maxProbes = 4, b = bounds): Probe[] {
  const probes: Probe[] = [];
  for (let crf: number | null = 23; crf !== null; ) {
    probes.push({ crf, ssim: ssimAt(crf) });
    crf = mayEncodeAgain(probes, { ssim: target, maxProbes }) ? nextCrf(probes, target, b) : null;
  }
  return probes;
}

describe("the CRF search of a targeted chunk", () => {
  it("lands within one step of the highest CRF that reaches the target, in at most four encodes", () => {
    // slopes from 0.15 to 0.45 dB per step, easy to hard pictures: the default slope is right only for some
    for (const [at23, slope] of [
      [19, 0.25],
      [14, 0.25],
      [17, 0.15],
      [13, 0.45],
      [16.2, 0.3],
    ] as const) {
      const ssimAt = chunk(at23, slope);
      const probes = search(ssimAt, 0.97);
      const kept = chosenProbe(probes, 0.97);
      expect(kept.ssim).toBeGreaterThanOrEqual(0.97);
      expect(probes.length).toBeLessThanOrEqual(4);
      // the exact answer, on the step grid
      const best = Math.floor((23 + (at23 - ssimDb(0.97)) / slope) / 0.5) * 0.5;
      expect(kept.crf).toBeGreaterThanOrEqual(Math.min(best, CRF_MAX) - 1);
      expect(kept.crf).toBeLessThanOrEqual(best);
    }
  });

  it("an easy chunk gets a higher CRF than a hard one for the same target", () => {
    const easy = chosenProbe(search(chunk(20, 0.25), 0.97), 0.97);
    const hard = chosenProbe(search(chunk(14, 0.25), 0.97), 0.97);
    expect(easy.crf).toBeGreaterThan(hard.crf + 10);
  });

  it("re-encodes a chunk still below the target after its probes, and stops where more bits buy nothing", () => {
    // three probes, all below: the budget is spent, but a chunk below the target is encoded again, lower
    const below: Probe[] = [
      { crf: 23, ssim: 0.95 },
      { crf: 14, ssim: 0.965 },
      { crf: 12, ssim: 0.968 },
    ];
    const target = { ssim: 0.97, maxProbes: 3 };
    expect(mayEncodeAgain(below, target)).toBe(true);
    const again = nextCrf(below, 0.97, bounds)!;
    expect(again).toBeLessThan(12);
    expect(again).toBeGreaterThanOrEqual(CRF_MIN);
    // once one passes, the budget ends the search, and the passing one is kept
    const met = [...below, { crf: again, ssim: 0.971 }];
    expect(mayEncodeAgain(met, target)).toBe(false);
    expect(chosenProbe(met, 0.97)).toEqual({ crf: again, ssim: 0.971 });
    // and never more than two encodes past the budget
    expect(mayEncodeAgain([...below, { crf: 11, ssim: 0.969 }, { crf: 10, ssim: 0.9695 }], target)).toBe(false);
    // a ceiling at 14 dB (0.960): lower CRFs stop gaining, the search ends and keeps the best it measured
    const capped = search(chunk(13.5, 0.25, 14), 0.97);
    expect(capped.length).toBeLessThanOrEqual(5);
    const kept = chosenProbe(capped, 0.97);
    expect(kept.ssim).toBeLessThan(0.97);
    expect(kept.ssim).toBeCloseTo(fromDb(14), 6);
  });

  it("stays inside the bounds and on the encoder's step", () => {
    // so easy that even CRF 40 passes: jumps of at most 8 steps up to the bound, then stop
    const trivial = search(chunk(30, 0.25), 0.97);
    expect(trivial.map((p) => p.crf)).toEqual([23, 31, 39, CRF_MAX]);
    // whole steps for libvpx and SVT-AV1
    const whole = search(chunk(16.2, 0.3), 0.97, 4, { ...bounds, step: 1 });
    for (const p of whole) expect(Number.isInteger(p.crf)).toBe(true);
    expect(nextCrf([], 0.97, bounds)).toBeNull();
  });
});
