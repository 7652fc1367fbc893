// Amazon EventBridge event-pattern matching for local development.
// Semantics follow the AWS docs ("Creating Amazon EventBridge event patterns").

export type EventPattern = { [key: string]: PatternValue };
export type PatternValue = EventPattern | ReadonlyArray<Matcher>;
export type Matcher =
  | string
  | number
  | boolean
  | null
  | { prefix: string }
  | { suffix: string }
  | { "equals-ignore-case": string }
  | { numeric: ReadonlyArray<string | number> }
  | { exists: boolean }
  | { "anything-but": string | number | ReadonlyArray<string | number> | { prefix: string } }
  | { wildcard: string };

/** A JSON scalar: the only kind of event value a matcher is ever applied to. */
type Scalar = string | number | boolean | null;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const isScalar = (v: unknown): v is Scalar =>
  v === null || typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v));

// Array.isArray does not narrow ReadonlyArray unions, hence a dedicated guard.
const isMatcherList = (v: PatternValue): v is ReadonlyArray<Matcher> => Array.isArray(v);

/** True when every field in `pattern` matches `event` (fields AND, matchers in a list OR). */
export function matches(pattern: EventPattern, event: unknown): boolean {
  // A sub-pattern against an array of objects must be satisfied by ONE element, so
  // conditions on sibling fields are never satisfied by different elements.
  if (Array.isArray(event) && event.length > 0) return event.some((item) => matches(pattern, item));
  // Anything that isn't an object has no fields: every field is "absent" (so exists:false can still match).
  const fields = isObject(event) ? event : {};
  return Object.entries(pattern).every(([key, sub]) => {
    const value = Object.hasOwn(fields, key) ? fields[key] : undefined;
    return isMatcherList(sub) ? matchLeaf(sub, scalars(value)) : matches(sub, value);
  });
}

/** The scalar values at a field; arrays (even nested) contribute each element, objects contribute nothing. */
function scalars(value: unknown): Scalar[] {
  if (Array.isArray(value)) return value.flatMap(scalars);
  return isScalar(value) ? [value] : [];
}

function matchLeaf(matchers: ReadonlyArray<Matcher>, values: Scalar[]): boolean {
  return matchers.some((m) =>
    // `exists` is about the field as a whole; every other matcher needs some value to satisfy it.
    isObject(m) && "exists" in m ? m.exists === values.length > 0 : values.some((v) => matchValue(m, v)),
  );
}

function matchValue(m: Matcher, v: Scalar): boolean {
  if (!isObject(m)) return m === v; // exact match; numbers compare by value, so 3 and 3.0 are equal
  if ("prefix" in m) return typeof v === "string" && v.startsWith(m.prefix);
  if ("suffix" in m) return typeof v === "string" && v.endsWith(m.suffix);
  if ("equals-ignore-case" in m)
    return typeof v === "string" && v.toLowerCase() === m["equals-ignore-case"].toLowerCase();
  if ("wildcard" in m) {
    if (typeof v !== "string") return false;
    const re = compileWildcard(m.wildcard);
    return typeof re !== "string" && re.test(v);
  }
  if ("numeric" in m) return typeof v === "number" && matchNumeric(m.numeric, v);
  if ("anything-but" in m) {
    const excluded = m["anything-but"];
    if (typeof excluded === "string" || typeof excluded === "number") return v !== excluded;
    if (isPrefix(excluded)) return !(typeof v === "string" && v.startsWith(excluded.prefix));
    return !excluded.some((x) => x === v);
  }
  return false; // unknown operator: never matches (validatePattern reports it)
}

const isPrefix = (v: unknown): v is { prefix: string } => isObject(v) && typeof v.prefix === "string";

function matchNumeric(ops: ReadonlyArray<string | number>, v: number): boolean {
  // Condition pairs are ANDed: [">", 0, "<=", 5] means 0 < v <= 5.
  for (let i = 0; i < ops.length; i += 2) {
    const bound = ops[i + 1];
    if (typeof bound !== "number" || !compare(ops[i], v, bound)) return false;
  }
  return ops.length > 0;
}

function compare(op: string | number | undefined, a: number, b: number): boolean {
  switch (op) {
    case "=":
      return a === b;
    case "<":
      return a < b;
    case "<=":
      return a <= b;
    case ">":
      return a > b;
    case ">=":
      return a >= b;
    default:
      return false;
  }
}

/**
 * Compiles a wildcard pattern: `*` matches any run of characters; `\*` and `\\` are a literal
 * `*` and `\`. Returns a problem string instead for patterns EventBridge rejects.
 */
function compileWildcard(pattern: string): RegExp | string {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    let ch = pattern[i];
    if (ch === "*") {
      // EventBridge rejects "**" since it is redundant and costly to evaluate.
      if (pattern[i + 1] === "*") return "consecutive wildcard characters are not allowed";
      source += ".*";
      continue;
    }
    if (ch === "\\") {
      ch = pattern[++i];
      if (ch !== "*" && ch !== "\\") return "only \\* and \\\\ escapes are allowed";
    }
    source += (ch ?? "").replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`, "s");
}

const NUMERIC_OPS = new Set(["=", "<", "<=", ">", ">="]);
const LOWER_OPS = new Set([">", ">="]);
const UPPER_OPS = new Set(["<", "<="]);

/** Human-readable problems with a pattern (empty when valid), each prefixed with the JSON path. */
export function validatePattern(pattern: unknown): string[] {
  const problems: string[] = [];
  validateObject(pattern, "", problems);
  return problems;
}

function validateObject(value: unknown, path: string, out: string[]): void {
  const where = path || "pattern";
  if (!isObject(value)) {
    out.push(`${where}: must be a JSON object, got ${describe(value)}`);
    return;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) out.push(`${where}: must not be an empty object`);
  for (const [key, child] of entries) {
    const childPath = path ? `${path}.${key}` : key;
    if (key === "$or") {
      out.push(`${childPath}: "$or" is not supported`);
      continue;
    }
    if (Array.isArray(child)) validateList(child, childPath, out);
    else if (isObject(child)) validateObject(child, childPath, out);
    else out.push(`${childPath}: leaf values must be arrays of matchers, got ${describe(child)}`);
  }
}

function validateList(list: readonly unknown[], path: string, out: string[]): void {
  // An empty list could never match anything, which is almost certainly a mistake.
  if (list.length === 0) out.push(`${path}: matcher list must not be empty`);
  list.forEach((m, i) => validateMatcher(m, `${path}[${i}]`, out));
}

function validateMatcher(m: unknown, path: string, out: string[]): void {
  if (m === null || typeof m === "string" || typeof m === "boolean") return;
  if (typeof m === "number") {
    if (!Number.isFinite(m)) out.push(`${path}: number must be finite`);
    return;
  }
  if (!isObject(m)) {
    out.push(`${path}: invalid matcher ${describe(m)}`);
    return;
  }
  const keys = Object.keys(m);
  const [op] = keys;
  if (keys.length !== 1 || op === undefined) {
    out.push(`${path}: matcher object must have exactly one operator, got ${keys.length ? keys.join(", ") : "none"}`);
    return;
  }
  const arg = m[op];
  const at = `${path}.${op}`;
  switch (op) {
    case "prefix":
    case "suffix":
    case "equals-ignore-case":
      if (typeof arg !== "string") out.push(`${at}: must be a string, got ${describe(arg)}`);
      return;
    case "wildcard":
      if (typeof arg !== "string") out.push(`${at}: must be a string, got ${describe(arg)}`);
      else {
        const compiled = compileWildcard(arg);
        if (typeof compiled === "string") out.push(`${at}: ${compiled}`);
      }
      return;
    case "exists":
      if (typeof arg !== "boolean") out.push(`${at}: must be true or false, got ${describe(arg)}`);
      return;
    case "numeric":
      validateNumeric(arg, at, out);
      return;
    case "anything-but":
      validateAnythingBut(arg, at, out);
      return;
    default:
      out.push(`${path}: unknown operator "${op}"`);
  }
}

function validateNumeric(arg: unknown, at: string, out: string[]): void {
  if (!Array.isArray(arg) || (arg.length !== 2 && arg.length !== 4)) {
    out.push(`${at}: must be [op, number] or [op, number, op, number], got ${describe(arg)}`);
    return;
  }
  const ops: string[] = [];
  const bounds: number[] = [];
  for (let i = 0; i < arg.length; i += 2) {
    const op: unknown = arg[i];
    const bound: unknown = arg[i + 1];
    if (typeof op !== "string" || !NUMERIC_OPS.has(op))
      out.push(`${at}[${i}]: unknown numeric operator ${describe(op)}`);
    else ops.push(op);
    if (typeof bound !== "number" || !Number.isFinite(bound))
      out.push(`${at}[${i + 1}]: must be a finite number, got ${describe(bound)}`);
    else bounds.push(bound);
  }
  if (arg.length !== 4 || ops.length !== 2 || bounds.length !== 2) return;
  // A two-condition range needs one lower and one upper bound, in any order, enclosing some values.
  const lower = ops.findIndex((o) => LOWER_OPS.has(o));
  const upper = ops.findIndex((o) => UPPER_OPS.has(o));
  if (lower === -1 || upper === -1) out.push(`${at}: a range needs one of ">"/">=" and one of "<"/"<="`);
  else if ((bounds[lower] ?? 0) >= (bounds[upper] ?? 0)) out.push(`${at}: lower bound must be less than upper bound`);
}

function validateAnythingBut(arg: unknown, at: string, out: string[]): void {
  if (typeof arg === "string" || (typeof arg === "number" && Number.isFinite(arg))) return;
  if (Array.isArray(arg)) {
    const allStrings = arg.every((x) => typeof x === "string");
    const allNumbers = arg.every((x) => typeof x === "number" && Number.isFinite(x));
    if (arg.length === 0) out.push(`${at}: list must not be empty`);
    else if (!allStrings && !allNumbers) out.push(`${at}: list must contain only strings or only numbers`);
    return;
  }
  if (isObject(arg)) {
    const keys = Object.keys(arg);
    if (keys.length !== 1 || keys[0] !== "prefix")
      out.push(`${at}: only {"prefix": string} is supported, got ${describe(arg)}`);
    else if (typeof arg.prefix !== "string") out.push(`${at}.prefix: must be a string, got ${describe(arg.prefix)}`);
    return;
  }
  out.push(`${at}: must be a string, number, list, or {"prefix": string}, got ${describe(arg)}`);
}

function describe(v: unknown): string {
  if (v === undefined) return "undefined";
  try {
    return JSON.stringify(v) ?? typeof v;
  } catch {
    return typeof v; // e.g. BigInt or circular values
  }
}
