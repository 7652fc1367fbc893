import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/**
 * Verifies AWS Signature Version 4 on an incoming S3 request, by header or by presigned
 * query. s3rver checks a presigned URL's expiry but not its signature, so locally any
 * presigned URL would open any object; S3 itself refuses that, and so must we.
 */
export interface IncomingSigned {
  method: string;
  /** The raw request target as received: path (still percent-encoded) and query. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * On success, what was verified, re-serialised: the path as signed and the query without its
 * SigV4 parameters (canonical encoding and order). A gate forwards exactly this, never the raw
 * request target, so nothing unsigned can ride along to the service behind it.
 */
export type Verdict =
  | { ok: true; accessKeyId: string; path: string; query: string }
  | {
      ok: false;
      code: "AccessDenied" | "SignatureDoesNotMatch" | "InvalidAccessKeyId" | "RequestTimeTooSkewed";
      message: string;
    };

/** The query parameters of SigV4 itself, removed before forwarding. */
const AUTH_PARAMS = new Set([
  "X-Amz-Algorithm",
  "X-Amz-Credential",
  "X-Amz-Date",
  "X-Amz-Expires",
  "X-Amz-SignedHeaders",
  "X-Amz-Signature",
  "X-Amz-Security-Token",
]);
/**
 * More query parameters than any S3 call uses: s3rver keeps only the first 1000, so a long tail could hide a
 * signed one.
 */
const MAX_QUERY_PARAMS = 64;
/** How far a header-signed request's date may be from now (S3's own window). */
const SKEW_MS = 15 * 60_000;

const ALGORITHM = "AWS4-HMAC-SHA256";

/** RFC 3986 encoding, as SigV4 wants it for query names and values. */
const strictEncode = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const hex = (data: string) => createHash("sha256").update(data).digest("hex");
const hmac = (key: Buffer | string, data: string) => createHmac("sha256", key).update(data).digest();

function header(h: IncomingSigned["headers"], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(",") : v;
}

function parseQuery(raw: string): [string, string][] {
  if (!raw) return [];
  return raw.split("&").map((pair) => {
    const i = pair.indexOf("=");
    const [k, v] = i < 0 ? [pair, ""] : [pair.slice(0, i), pair.slice(i + 1)];
    return [decodeURIComponent(k), decodeURIComponent(v)];
  });
}

function canonicalQuery(pairs: [string, string][]): string {
  return pairs
    .map(([k, v]) => [strictEncode(k), strictEncode(v)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}

export interface VerifyOptions {
  /** SHA-256 (hex) of the body the gate read, for services that sign their payload (DynamoDB). */
  payloadHash?: string;
}

export function verifySigV4(
  req: IncomingSigned,
  secrets: (accessKeyId: string) => string | undefined,
  now = Date.now(),
  opts: VerifyOptions = {},
): Verdict {
  const q = req.url.indexOf("?");
  const path = q < 0 ? req.url : req.url.slice(0, q);
  let query: [string, string][];
  try {
    query = parseQuery(q < 0 ? "" : req.url.slice(q + 1));
  } catch {
    return { ok: false, code: "AccessDenied", message: "The query string is not valid percent-encoding." };
  }
  // one value per name: a second X-Amz-Signature (or partNumber) must not be a choice between two
  if (query.length > MAX_QUERY_PARAMS)
    return {
      ok: false,
      code: "AccessDenied",
      message: `The query string has ${query.length} parameters; at most ${MAX_QUERY_PARAMS} are accepted.`,
    };
  const names = new Set<string>();
  for (const [k] of query) {
    const key = k.toLowerCase();
    if (names.has(key))
      return { ok: false, code: "AccessDenied", message: `The query parameter ${k} is given more than once.` };
    names.add(key);
  }
  const param = (name: string) => query.find(([k]) => k === name)?.[1];

  let credential: string, signedHeaders: string, signature: string, amzDate: string, payloadHash: string;
  const auth = header(req.headers, "authorization");
  if (auth) {
    const m = /^AWS4-HMAC-SHA256 Credential=([^,]+),\s*SignedHeaders=([^,]+),\s*Signature=([0-9a-f]{64})$/.exec(auth);
    if (!m) return { ok: false, code: "AccessDenied", message: "Only AWS Signature Version 4 is accepted." };
    [credential, signedHeaders, signature] = [m[1]!, m[2]!, m[3]!];
    if (query.some(([k]) => AUTH_PARAMS.has(k)))
      return {
        ok: false,
        code: "AccessDenied",
        message: "Only one way of signing per request: an Authorization header or a presigned URL.",
      };
    amzDate = header(req.headers, "x-amz-date") ?? "";
    payloadHash = opts.payloadHash ?? header(req.headers, "x-amz-content-sha256") ?? hex("");
    const signedAt = Date.parse(amzDate.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, "$1-$2-$3T$4:$5:$6Z"));
    if (!Number.isFinite(signedAt) || Math.abs(now - signedAt) > SKEW_MS)
      return {
        ok: false,
        code: "RequestTimeTooSkewed",
        message: "The request's X-Amz-Date is missing or more than 15 minutes from now.",
      };
  } else if (param("X-Amz-Signature")) {
    if (param("X-Amz-Algorithm") !== ALGORITHM)
      return { ok: false, code: "AccessDenied", message: "Only AWS Signature Version 4 is accepted." };
    credential = param("X-Amz-Credential") ?? "";
    signedHeaders = param("X-Amz-SignedHeaders") ?? "";
    signature = param("X-Amz-Signature")!;
    amzDate = param("X-Amz-Date") ?? "";
    payloadHash = "UNSIGNED-PAYLOAD";
    const expires = Number(param("X-Amz-Expires"));
    const signedAt = Date.parse(amzDate.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, "$1-$2-$3T$4:$5:$6Z"));
    if (!Number.isFinite(expires) || !Number.isFinite(signedAt))
      return { ok: false, code: "AccessDenied", message: "The presigned URL has no valid date or expiry." };
    if (now > signedAt + expires * 1000) return { ok: false, code: "AccessDenied", message: "Request has expired." };
    query = query.filter(([k]) => k !== "X-Amz-Signature");
  } else if (query.some(([k]) => AUTH_PARAMS.has(k))) {
    return { ok: false, code: "AccessDenied", message: "The presigned URL has no X-Amz-Signature." };
  } else {
    return { ok: false, code: "AccessDenied", message: "Anonymous access is not allowed; use a presigned URL." };
  }

  const [accessKeyId, date, region, service, terminator] = credential.split("/");
  const secret = accessKeyId ? secrets(accessKeyId) : undefined;
  if (!secret) return { ok: false, code: "InvalidAccessKeyId", message: "The access key id is not known here." };
  if (!date || !region || !service || terminator !== "aws4_request")
    return { ok: false, code: "AccessDenied", message: "The credential scope is malformed." };

  const signedNames = signedHeaders.split(";");
  // as S3 does: every x-amz-* header sent must be signed, or it could change what the request does
  const unsigned = Object.keys(req.headers).filter(
    (h) => h.toLowerCase().startsWith("x-amz-") && !signedNames.includes(h.toLowerCase()),
  );
  if (unsigned.length)
    return { ok: false, code: "AccessDenied", message: `These headers must be signed: ${unsigned.join(", ")}.` };
  const canonicalHeaders = signedNames
    .map((n) => `${n}:${(header(req.headers, n) ?? "").trim().replace(/\s+/g, " ")}\n`)
    .join("");
  const canonicalRequest = [req.method, path, canonicalQuery(query), canonicalHeaders, signedHeaders, payloadHash].join(
    "\n",
  );
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = [ALGORITHM, amzDate, scope, hex(canonicalRequest)].join("\n");
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), "aws4_request");
  const expected = createHmac("sha256", key).update(stringToSign).digest();
  const given = Buffer.from(signature, "hex");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return {
      ok: false,
      code: "SignatureDoesNotMatch",
      message:
        "The request signature does not match: a presigned URL opens only the object and operation it was made for.",
    };
  }
  const forwarded = query.filter(([k]) => !AUTH_PARAMS.has(k));
  return { ok: true, accessKeyId: accessKeyId!, path, query: canonicalQuery(forwarded) };
}
