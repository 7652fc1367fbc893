import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * `videoforge-signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`. The time is signed with the
 * body so a captured request cannot be replayed later than the receiver's tolerance; `v1` names the scheme so a
 * second one can be added beside it while receivers move over.
 */
export const SIGNATURE_HEADER = "videoforge-signature";

export const newWebhookSecret = () => `whsec_${randomBytes(32).toString("base64url")}`;

const mac = (secret: string, t: number, body: string) => createHmac("sha256", secret).update(`${t}.${body}`).digest();

export function signatureHeader(secret: string, body: string, t = Math.floor(Date.now() / 1000)): string {
  return `t=${t},v1=${mac(secret, t, body).toString("hex")}`;
}

export type Verdict = { ok: true; t: number } | { ok: false; reason: string };

/** What a receiver does: the header's time within `toleranceSeconds` of now, and one `v1` matching the body. */
export function verifySignature(
  header: string | undefined,
  body: string,
  secret: string,
  { toleranceSeconds = 300, now = Date.now() } = {},
): Verdict {
  if (!header) return { ok: false, reason: `no ${SIGNATURE_HEADER} header` };
  const parts = header.split(",").map((p) => p.trim().split("=", 2) as [string, string | undefined]);
  const t = Number(parts.find(([k]) => k === "t")?.[1]);
  if (!Number.isInteger(t)) return { ok: false, reason: "the signature has no time (t=)" };
  if (Math.abs(now / 1000 - t) > toleranceSeconds)
    return { ok: false, reason: `the signature's time is more than ${toleranceSeconds} s from now` };
  const expected = mac(secret, t, body);
  const matched = parts
    .filter(([k, v]) => k === "v1" && v && /^[0-9a-f]{64}$/.test(v))
    .some(([, v]) => timingSafeEqual(Buffer.from(v!, "hex"), expected));
  return matched ? { ok: true, t } : { ok: false, reason: "no v1 signature matches the body with this secret" };
}
