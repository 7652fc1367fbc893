import { describe, it, expect } from "vitest";
import { matches, validatePattern, type EventPattern } from "./pattern.ts";

const upload = {
  version: "0",
  id: "e1",
  source: "videoforge",
  "detail-type": "VideoUploaded",
  time: "2024-05-01T12:00:00Z",
  resources: ["arn:aws:s3:::videoforge-uploads/raw/j1.mp4"],
  detail: {
    jobId: "j1",
    source: { bucket: "videoforge-uploads", key: "raw/j1.MP4", size: 3000000000 },
    tags: ["4k", "hdr"],
    priority: null,
  },
};

describe("videoforge events", () => {
  const largeUpload: EventPattern = {
    "detail-type": ["VideoUploaded"],
    detail: { source: { size: [{ numeric: [">=", 2147483648] }] } },
  };

  it("routes uploads of 2 GiB or more", () => {
    expect(validatePattern(largeUpload)).toEqual([]);
    expect(matches(largeUpload, upload)).toBe(true);
  });

  it("skips small uploads and other detail types", () => {
    expect(matches(largeUpload, { ...upload, detail: { ...upload.detail, source: { size: 1024 } } })).toBe(false);
    expect(matches(largeUpload, { ...upload, "detail-type": "VideoTranscoded" })).toBe(false);
  });

  it("matches a typical multi-field rule", () => {
    const rule: EventPattern = {
      source: ["videoforge"],
      "detail-type": ["VideoUploaded", "VideoReuploaded"],
      detail: {
        jobId: [{ exists: true }],
        source: { key: [{ prefix: "raw/" }, { suffix: ".mov" }], bucket: [{ "anything-but": { prefix: "tmp-" } }] },
        tags: ["hdr"],
        error: [{ exists: false }],
      },
    };
    expect(validatePattern(rule)).toEqual([]);
    expect(matches(rule, upload)).toBe(true);
    expect(matches(rule, { ...upload, source: "other" })).toBe(false);
    expect(matches(rule, { ...upload, detail: { ...upload.detail, error: "boom" } })).toBe(false);
  });
});

describe("exact matching", () => {
  it("matches strings exactly and case-sensitively", () => {
    expect(matches({ source: ["videoforge"] }, upload)).toBe(true);
    expect(matches({ source: ["VideoForge"] }, upload)).toBe(false);
    expect(matches({ source: ["video"] }, upload)).toBe(false);
  });

  it("matches the empty string only against an empty string", () => {
    expect(matches({ name: [""] }, { name: "" })).toBe(true);
    expect(matches({ name: [""] }, { name: "x" })).toBe(false);
    expect(matches({ name: [""] }, {})).toBe(false);
  });

  it("matches numbers by value and never across types", () => {
    expect(matches({ n: [5] }, { n: 5 })).toBe(true);
    expect(matches({ n: [5] }, { n: 5.0 })).toBe(true);
    expect(matches({ n: [5] }, { n: "5" })).toBe(false);
    expect(matches({ n: ["5"] }, { n: 5 })).toBe(false);
  });

  it("matches booleans", () => {
    expect(matches({ ok: [true] }, { ok: true })).toBe(true);
    expect(matches({ ok: [true] }, { ok: false })).toBe(false);
    expect(matches({ ok: [true] }, { ok: "true" })).toBe(false);
  });

  it("matches null only against a JSON null", () => {
    expect(matches({ detail: { priority: [null] } }, upload)).toBe(true);
    expect(matches({ v: [null] }, { v: "null" })).toBe(false);
    expect(matches({ v: [null] }, {})).toBe(false);
    expect(matches({ v: [null] }, { v: undefined })).toBe(false);
  });

  it("ORs the matchers in a list", () => {
    const p: EventPattern = { state: ["running", "stopped", { prefix: "term" }] };
    expect(matches(p, { state: "stopped" })).toBe(true);
    expect(matches(p, { state: "terminated" })).toBe(true);
    expect(matches(p, { state: "pending" })).toBe(false);
  });

  it("ANDs the fields of a pattern", () => {
    const p: EventPattern = { a: [1], b: [2] };
    expect(matches(p, { a: 1, b: 2, c: 3 })).toBe(true);
    expect(matches(p, { a: 1, b: 3 })).toBe(false);
    expect(matches(p, { a: 1 })).toBe(false);
  });
});

describe("prefix / suffix / equals-ignore-case", () => {
  it("prefix applies to strings only", () => {
    expect(matches({ time: [{ prefix: "2024-05" }] }, upload)).toBe(true);
    expect(matches({ time: [{ prefix: "2023" }] }, upload)).toBe(false);
    expect(matches({ n: [{ prefix: "12" }] }, { n: 123 })).toBe(false);
  });

  it("suffix applies to strings only and is case-sensitive", () => {
    expect(matches({ detail: { source: { key: [{ suffix: ".MP4" }] } } }, upload)).toBe(true);
    expect(matches({ detail: { source: { key: [{ suffix: ".mp4" }] } } }, upload)).toBe(false);
    expect(matches({ n: [{ suffix: "3" }] }, { n: 123 })).toBe(false);
  });

  it("equals-ignore-case compares whole strings regardless of case", () => {
    const p: EventPattern = { "detail-type": [{ "equals-ignore-case": "videouploaded" }] };
    expect(matches(p, upload)).toBe(true);
    expect(matches(p, { "detail-type": "VIDEOUPLOADED" })).toBe(true);
    expect(matches(p, { "detail-type": "VideoUploadedX" })).toBe(false);
    expect(matches({ b: [{ "equals-ignore-case": "true" }] }, { b: true })).toBe(false);
  });
});

describe("wildcard", () => {
  const key = (k: unknown) => ({ detail: { key: k } });

  it("matches * against any run of characters, including none", () => {
    const p: EventPattern = { detail: { key: [{ wildcard: "raw/*.mp4" }] } };
    expect(matches(p, key("raw/j1.mp4"))).toBe(true);
    expect(matches(p, key("raw/.mp4"))).toBe(true);
    expect(matches(p, key("raw/a/b/c.mp4"))).toBe(true);
    expect(matches(p, key("out/j1.mp4"))).toBe(false);
    expect(matches(p, key("raw/j1.mp4.bak"))).toBe(false);
  });

  it("supports several wildcards and anchors the whole string", () => {
    const p: EventPattern = { detail: { key: [{ wildcard: "*/lib/*" }] } };
    expect(matches(p, key("usr/lib/x"))).toBe(true);
    expect(matches(p, key("usr/libx"))).toBe(false);
    expect(matches({ detail: { key: [{ wildcard: "abc" }] } }, key("abc"))).toBe(true);
    expect(matches({ detail: { key: [{ wildcard: "abc" }] } }, key("xabcx"))).toBe(false);
  });

  it("treats regex metacharacters literally", () => {
    const p: EventPattern = { detail: { key: [{ wildcard: "a.b(c)+[d]*" }] } };
    expect(matches(p, key("a.b(c)+[d]zzz"))).toBe(true);
    expect(matches(p, key("aXb(c)+[d]"))).toBe(false);
  });

  it("supports \\* and \\\\ escapes", () => {
    expect(matches({ detail: { key: [{ wildcard: "a\\*b" }] } }, key("a*b"))).toBe(true);
    expect(matches({ detail: { key: [{ wildcard: "a\\*b" }] } }, key("axb"))).toBe(false);
    expect(matches({ detail: { key: [{ wildcard: "a\\\\*" }] } }, key("a\\anything"))).toBe(true);
  });

  it("matches across newlines and only applies to strings", () => {
    expect(matches({ detail: { key: [{ wildcard: "a*b" }] } }, key("a\nb"))).toBe(true);
    expect(matches({ detail: { key: [{ wildcard: "1*" }] } }, key(123))).toBe(false);
  });
});

describe("numeric", () => {
  const size = (n: unknown) => ({ size: n });

  it.each([
    ["=", 5, 5, true],
    ["=", 5, 5.5, false],
    ["<", 5, 4.9, true],
    ["<", 5, 5, false],
    ["<=", 5, 5, true],
    ["<=", 5, 6, false],
    [">", 5, 6, true],
    [">", 5, 5, false],
    [">=", 5, 5, true],
    [">=", 5, 4, false],
  ] as const)("%s %d against %d -> %s", (op, bound, value, expected) => {
    expect(matches({ size: [{ numeric: [op, bound] }] }, size(value))).toBe(expected);
  });

  it("ANDs a two-condition range", () => {
    const p: EventPattern = { size: [{ numeric: [">", 0, "<=", 5] }] };
    expect(matches(p, size(0))).toBe(false);
    expect(matches(p, size(0.1))).toBe(true);
    expect(matches(p, size(5))).toBe(true);
    expect(matches(p, size(5.01))).toBe(false);
    expect(matches(p, size(-3))).toBe(false);
  });

  it("accepts the upper bound first", () => {
    const p: EventPattern = { size: [{ numeric: ["<", 10, ">=", 2] }] };
    expect(matches(p, size(2))).toBe(true);
    expect(matches(p, size(10))).toBe(false);
  });

  it("handles negatives, decimals and exponent notation", () => {
    expect(matches({ t: [{ numeric: ["<", -1.5] }] }, { t: -2 })).toBe(true);
    expect(matches({ t: [{ numeric: ["=", 301.5] }] }, JSON.parse('{"t": 3.015e2}'))).toBe(true);
  });

  it("applies only to JSON numbers", () => {
    const p: EventPattern = { size: [{ numeric: [">", 0] }] };
    expect(matches(p, size("10"))).toBe(false);
    expect(matches(p, size(true))).toBe(false);
    expect(matches(p, size(null))).toBe(false);
    expect(matches(p, size({ bytes: 10 }))).toBe(false);
  });
});

describe("exists", () => {
  it("exists:true needs a present leaf value", () => {
    const p: EventPattern = { detail: { jobId: [{ exists: true }] } };
    expect(matches(p, upload)).toBe(true);
    expect(matches(p, { detail: {} })).toBe(false);
    expect(matches(p, {})).toBe(false);
    expect(matches(p, { detail: { jobId: "" } })).toBe(true);
    expect(matches(p, { detail: { jobId: 0 } })).toBe(true);
    expect(matches(p, { detail: { jobId: false } })).toBe(true);
    expect(matches(p, { detail: { jobId: null } })).toBe(true);
  });

  it("exists:true does not match an object (only leaf nodes)", () => {
    expect(matches({ detail: { source: [{ exists: true }] } }, upload)).toBe(false);
  });

  it("exists:false matches absent fields, including under absent parents", () => {
    const p: EventPattern = { detail: { error: [{ exists: false }] } };
    expect(matches(p, upload)).toBe(true);
    expect(matches(p, { detail: { error: "boom" } })).toBe(false);
    expect(matches(p, { detail: { error: null } })).toBe(false);
    expect(matches(p, {})).toBe(true);
    expect(matches(p, { detail: "not an object" })).toBe(true);
  });

  it("exists:false matches a field holding an object (no leaf value)", () => {
    expect(matches({ detail: { source: [{ exists: false }] } }, upload)).toBe(true);
  });

  it("treats an empty array as absent", () => {
    expect(matches({ tags: [{ exists: true }] }, { tags: [] })).toBe(false);
    expect(matches({ tags: [{ exists: false }] }, { tags: [] })).toBe(true);
    expect(matches({ tags: [{ exists: true }] }, { tags: ["a"] })).toBe(true);
  });

  it("combines with other matchers in a list", () => {
    const p: EventPattern = { retry: [{ exists: false }, { numeric: ["<", 3] }] };
    expect(matches(p, {})).toBe(true);
    expect(matches(p, { retry: 2 })).toBe(true);
    expect(matches(p, { retry: 3 })).toBe(false);
  });
});

describe("anything-but", () => {
  it("excludes a single string or number", () => {
    expect(matches({ state: [{ "anything-but": "initializing" }] }, { state: "running" })).toBe(true);
    expect(matches({ state: [{ "anything-but": "initializing" }] }, { state: "initializing" })).toBe(false);
    expect(matches({ limit: [{ "anything-but": 123 }] }, { limit: 124 })).toBe(true);
    expect(matches({ limit: [{ "anything-but": 123 }] }, { limit: 123 })).toBe(false);
  });

  it("excludes a list of values", () => {
    const p: EventPattern = { state: [{ "anything-but": ["stopped", "overloaded"] }] };
    expect(matches(p, { state: "running" })).toBe(true);
    expect(matches(p, { state: "stopped" })).toBe(false);
    expect(matches(p, { state: "overloaded" })).toBe(false);
    expect(matches({ n: [{ "anything-but": [100, 500] }] }, { n: 100.1 })).toBe(true);
    expect(matches({ n: [{ "anything-but": [100, 500] }] }, { n: 500 })).toBe(false);
  });

  it("excludes a prefix", () => {
    const p: EventPattern = { region: [{ "anything-but": { prefix: "us-" } }] };
    expect(matches(p, { region: "eu-west-1" })).toBe(true);
    expect(matches(p, { region: "us-east-1" })).toBe(false);
    expect(matches(p, { region: 42 })).toBe(true);
  });

  it("compares types strictly", () => {
    expect(matches({ n: [{ "anything-but": 5 }] }, { n: "5" })).toBe(true);
    expect(matches({ s: [{ "anything-but": "x" }] }, { s: null })).toBe(true);
  });

  it("requires the field to be present", () => {
    expect(matches({ state: [{ "anything-but": "x" }] }, {})).toBe(false);
    expect(matches({ state: [{ "anything-but": "x" }] }, { state: [] })).toBe(false);
    expect(matches({ state: [{ "anything-but": "x" }] }, { state: { nested: 1 } })).toBe(false);
  });
});

describe("arrays in events", () => {
  it("matches when any element matches", () => {
    expect(matches({ detail: { tags: ["hdr"] } }, upload)).toBe(true);
    expect(matches({ detail: { tags: ["sd"] } }, upload)).toBe(false);
    expect(matches({ resources: [{ prefix: "arn:aws:s3:::videoforge" }] }, upload)).toBe(true);
    expect(matches({ n: [{ numeric: [">", 10] }] }, { n: [1, 2, 30] })).toBe(true);
  });

  it("applies anything-but per element", () => {
    const p: EventPattern = { n: [{ "anything-but": [100, 500] }] };
    expect(matches(p, { n: [100, 50] })).toBe(true);
    expect(matches(p, { n: [100, 500] })).toBe(false);
  });

  it("flattens nested arrays", () => {
    expect(matches({ a: ["x"] }, { a: [["y"], ["z", ["x"]]] })).toBe(true);
  });

  it("never matches an empty array", () => {
    expect(matches({ a: ["x"] }, { a: [] })).toBe(false);
  });

  it("descends into arrays of objects", () => {
    const p: EventPattern = { detail: { outputs: { format: ["hls"] } } };
    const event = { detail: { outputs: [{ format: "mp4" }, { format: "hls" }] } };
    expect(matches(p, event)).toBe(true);
    expect(matches({ detail: { outputs: { format: ["dash"] } } }, event)).toBe(false);
  });

  it("requires sibling fields to match within the same array element", () => {
    const p: EventPattern = { outputs: { format: ["hls"], height: [1080] } };
    expect(
      matches(p, {
        outputs: [
          { format: "hls", height: 720 },
          { format: "mp4", height: 1080 },
        ],
      }),
    ).toBe(false);
    expect(
      matches(p, {
        outputs: [
          { format: "mp4", height: 720 },
          { format: "hls", height: 1080 },
        ],
      }),
    ).toBe(true);
  });

  it("exists:false holds when some array element lacks the field", () => {
    const p: EventPattern = { outputs: { error: [{ exists: false }] } };
    expect(matches(p, { outputs: [{ error: "x" }, { ok: true }] })).toBe(true);
    expect(matches(p, { outputs: [{ error: "x" }] })).toBe(false);
  });
});

describe("nesting and missing fields", () => {
  it("descends into nested objects", () => {
    expect(matches({ detail: { source: { bucket: ["videoforge-uploads"] } } }, upload)).toBe(true);
    expect(matches({ detail: { source: { bucket: ["other"] } } }, upload)).toBe(false);
  });

  it("does not match a nested pattern against a scalar", () => {
    expect(matches({ detail: { jobId: { id: ["j1"] } } }, upload)).toBe(false);
  });

  it("does not match a leaf against an object", () => {
    expect(matches({ detail: ["x"] }, upload)).toBe(false);
    expect(matches({ detail: [{ "anything-but": "x" }] }, upload)).toBe(false);
  });

  it("fails every matcher but exists:false on a missing field", () => {
    const missing: EventPattern[] = [
      { x: ["a"] },
      { x: [null] },
      { x: [{ prefix: "" }] },
      { x: [{ suffix: "" }] },
      { x: [{ "equals-ignore-case": "" }] },
      { x: [{ wildcard: "*" }] },
      { x: [{ numeric: [">", -1e9] }] },
      { x: [{ exists: true }] },
      { x: [{ "anything-but": "a" }] },
      { x: [{ "anything-but": { prefix: "a" } }] },
      { deep: { x: ["a"] } },
    ];
    for (const p of missing) expect(matches(p, { y: 1 }), JSON.stringify(p)).toBe(false);
    expect(matches({ x: [{ exists: false }] }, { y: 1 })).toBe(true);
  });

  it("ignores inherited properties and tolerates non-object events", () => {
    expect(matches({ toString: [{ exists: true }] }, {})).toBe(false);
    expect(matches({ a: ["x"] }, null)).toBe(false);
    expect(matches({ a: ["x"] }, "a")).toBe(false);
    expect(matches({ a: [{ exists: false }] }, undefined)).toBe(true);
  });

  it("matches everything with an empty pattern (which validatePattern rejects)", () => {
    expect(matches({}, upload)).toBe(true);
  });
});

describe("validatePattern", () => {
  const problems = (p: unknown) => validatePattern(p);

  it("accepts every supported operator", () => {
    const p: EventPattern = {
      a: ["s", 1, 2.5, true, false, null],
      b: [{ prefix: "p" }, { suffix: "s" }, { "equals-ignore-case": "E" }, { wildcard: "a*b\\*c\\\\" }],
      c: [{ numeric: ["=", 1] }, { numeric: [">", 0, "<=", 5] }, { numeric: ["<", 10, ">=", 2] }],
      d: [{ exists: true }, { exists: false }],
      e: [{ "anything-but": "x" }, { "anything-but": 1 }, { "anything-but": ["x", "y"] }, { "anything-but": [1, 2] }],
      f: [{ "anything-but": { prefix: "us-" } }],
      g: { h: { i: ["deep"] } },
    };
    expect(problems(p)).toEqual([]);
  });

  it("requires the pattern to be a non-empty object", () => {
    expect(problems(null)).toEqual(["pattern: must be a JSON object, got null"]);
    expect(problems([])).toEqual(["pattern: must be a JSON object, got []"]);
    expect(problems("x")).toHaveLength(1);
    expect(problems({})).toEqual(["pattern: must not be an empty object"]);
    expect(problems({ detail: {} })).toEqual(["detail: must not be an empty object"]);
  });

  it("requires leaves to be non-empty arrays", () => {
    expect(problems({ source: "videoforge" })).toEqual([
      'source: leaf values must be arrays of matchers, got "videoforge"',
    ]);
    expect(problems({ detail: { size: 5 } })).toEqual(["detail.size: leaf values must be arrays of matchers, got 5"]);
    expect(problems({ detail: { ok: null } })).toHaveLength(1);
    expect(problems({ source: [] })).toEqual(["source: matcher list must not be empty"]);
  });

  it("rejects nested arrays and malformed matcher objects", () => {
    expect(problems({ a: [["x"]] })).toEqual(['a[0]: invalid matcher ["x"]']);
    expect(problems({ a: [{}] })).toEqual(["a[0]: matcher object must have exactly one operator, got none"]);
    expect(problems({ a: [{ prefix: "x", suffix: "y" }] })).toEqual([
      "a[0]: matcher object must have exactly one operator, got prefix, suffix",
    ]);
  });

  it("rejects unknown operators", () => {
    expect(problems({ ip: [{ cidr: "10.0.0.0/24" }] })).toEqual(['ip[0]: unknown operator "cidr"']);
    expect(problems({ a: [{ contains: "x" }] })).toEqual(['a[0]: unknown operator "contains"']);
    expect(problems({ $or: [{ a: ["x"] }, { b: ["y"] }] })).toEqual(['$or: "$or" is not supported']);
  });

  it("checks operand types", () => {
    expect(problems({ a: [{ prefix: 1 }] })).toEqual(["a[0].prefix: must be a string, got 1"]);
    expect(problems({ a: [{ suffix: null }] })).toEqual(["a[0].suffix: must be a string, got null"]);
    expect(problems({ a: [{ "equals-ignore-case": ["x"] }] })).toHaveLength(1);
    expect(problems({ a: [{ wildcard: 5 }] })).toHaveLength(1);
    expect(problems({ a: [{ exists: "true" }] })).toEqual(['a[0].exists: must be true or false, got "true"']);
    expect(problems({ a: [Number.NaN] })).toEqual(["a[0]: number must be finite"]);
  });

  it("rejects bad wildcards", () => {
    expect(problems({ a: [{ wildcard: "a**b" }] })).toEqual([
      "a[0].wildcard: consecutive wildcard characters are not allowed",
    ]);
    expect(problems({ a: [{ wildcard: "a\\nb" }] })).toEqual(["a[0].wildcard: only \\* and \\\\ escapes are allowed"]);
    expect(problems({ a: [{ wildcard: "trailing\\" }] })).toHaveLength(1);
    expect(problems({ a: [{ wildcard: "a\\**" }] })).toEqual([]); // literal * then a wildcard
  });

  it("rejects bad numeric operator lists", () => {
    const numeric = (list: unknown) => problems({ n: [{ numeric: list }] });
    expect(numeric(5)).toEqual(["n[0].numeric: must be [op, number] or [op, number, op, number], got 5"]);
    expect(numeric([])).toHaveLength(1);
    expect(numeric([">"])).toHaveLength(1);
    expect(numeric([">", 1, "<"])).toHaveLength(1);
    expect(numeric([">", 1, "<", 5, "=", 3])).toHaveLength(1);
    expect(numeric(["!=", 1])).toEqual(['n[0].numeric[0]: unknown numeric operator "!="']);
    expect(numeric([">", "5"])).toEqual(['n[0].numeric[1]: must be a finite number, got "5"']);
    expect(numeric([">", 0, "<", 5])).toEqual([]);
    expect(numeric([">", 0, ">=", 5])).toEqual(['n[0].numeric: a range needs one of ">"/">=" and one of "<"/"<="']);
    expect(numeric(["=", 1, "<", 5])).toHaveLength(1);
    expect(numeric([">", 5, "<", 5])).toEqual(["n[0].numeric: lower bound must be less than upper bound"]);
    expect(numeric([">=", 10, "<=", 1])).toHaveLength(1);
  });

  it("rejects bad anything-but operands", () => {
    const ab = (v: unknown) => problems({ s: [{ "anything-but": v }] });
    expect(ab([])).toEqual(["s[0].anything-but: list must not be empty"]);
    expect(ab(["a", 1])).toEqual(["s[0].anything-but: list must contain only strings or only numbers"]);
    expect(ab([null])).toHaveLength(1);
    expect(ab(true)).toHaveLength(1);
    expect(ab(null)).toHaveLength(1);
    expect(ab({ suffix: ".png" })).toEqual([
      's[0].anything-but: only {"prefix": string} is supported, got {"suffix":".png"}',
    ]);
    expect(ab({ prefix: 1 })).toEqual(["s[0].anything-but.prefix: must be a string, got 1"]);
  });

  it("reports every problem with its path", () => {
    const result = problems({
      source: "videoforge",
      detail: { size: [{ numeric: [">", "big"] }], state: [{ exist: true }] },
    });
    expect(result).toEqual([
      'source: leaf values must be arrays of matchers, got "videoforge"',
      'detail.size[0].numeric[1]: must be a finite number, got "big"',
      'detail.state[0]: unknown operator "exist"',
    ]);
  });
});
