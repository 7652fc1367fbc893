import { createHash, createHmac } from "node:crypto";

/**
 * A minimal SigV4 signer (Authorization header) for raw requests the SDK would never send,
 * such as a malformed PutEvents body, signed as the local cloud's own processes sign.
 */
export function signedHeaders(
  url: string,
  body: string,
  headers: Record<string, string>,
  credentials: { accessKeyId: string; secretAccessKey: string },
  service = "events",
  region = "us-east-1",
): Record<string, string> {
  const u = new URL(url);
  const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, "");
  const date = amzDate.slice(0, 8);
  const all: Record<string, string> = {
    ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
    host: u.host,
    "x-amz-date": amzDate,
  };
  const names = Object.keys(all).sort();
  const hash = (s: string) => createHash("sha256").update(s).digest("hex");
  const canonical = [
    "POST",
    u.pathname || "/",
    "",
    names.map((n) => `${n}:${all[n]!.trim()}\n`).join(""),
    names.join(";"),
    hash(body),
  ].join("\n");
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, hash(canonical)].join("\n");
  const hmac = (k: Buffer | string, d: string) => createHmac("sha256", k).update(d).digest();
  const key = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, date), region), service), "aws4_request");
  const signature = createHmac("sha256", key).update(toSign).digest("hex");
  const { host: _host, ...rest } = all;
  return {
    ...rest,
    authorization:
      `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, ` +
      `SignedHeaders=${names.join(";")}, Signature=${signature}`,
  };
}
