import { InvalidArgumentError } from "commander";
// the ladder module alone: the whole core (AWS SDK and all) must not load to parse a flag
import { parseLadder, type RungName } from "@videoforge/core/ladder";

/**
 * Parsers for option values. Commander calls them while it reads the command line, so a
 * bad value stops the command before any work starts, with an error naming the option:
 * `error: option '--reps <n>' argument 'abc' is invalid. Expected a whole number ≥ 1.`
 */

/** A whole number ≥ `min`. */
export function wholeNumber(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(`Expected a whole number ≥ ${min}.`);
    return n;
  };
}

/** A finite number > 0 (seconds, which may be fractional). */
export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("Expected a number > 0.");
  return n;
}

/** A TCP port; 0 lets the system choose a free one. */
export function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 65_535)
    throw new InvalidArgumentError("Expected a port number from 0 to 65535.");
  return n;
}

/** An http(s) URL. */
export function httpUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError("Expected a URL such as http://127.0.0.1:8080.");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new InvalidArgumentError("Expected an http:// or https:// URL.");
  return value;
}

/** A comma-separated list of known rungs. */
export function ladder(value: string): RungName[] {
  try {
    return parseLadder(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** One of a fixed set of words; the message lists them. */
export function oneOf<T extends string>(name: string, choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value))
      throw new InvalidArgumentError(`${name} must be one of ${choices.join(", ")}, got "${value}".`);
    return value as T;
  };
}
