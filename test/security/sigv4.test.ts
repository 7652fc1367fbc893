import { describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { verifySigV4 } from "../../packages/local/src/storage/sigv4.ts";
import { signedHeaders } from "./sign.ts";

/** The gate's verifier on its own (finding 3): what it accepts, and exactly what it forwards. */

const keys = { accessKeyId: "VFTESTKEY000000000001", secretAccessKey: "a-secret-that-is-long-enough-000000" };
const secrets = (id: string) => (id === keys.accessKeyId ? keys.secretAccessKey : undefined);
const hash = (s: string) => createHash("sha256").update(s).digest("hex");

function signed(path: string, body = "{}", extra: Record<string, string> = {}) {
  const url = `http://127.0.0.1:1234${path}`;
  const headers = signedHeaders(
    url,
    body,
    { "content-type": "application/x-amz-json-1.0", ...extra },
    keys,
    "dynamodb",
  );
  return { method: "POST", url: path, headers: { ...headers, host: "127.0.0.1:1234" } };
}

describe("verifySigV4 (issue 12)", () => {
  it("accepts a request signed with the pair, over its body, and forwards the path and query it verified", () => {
    const v = verifySigV4(signed("/"), secrets, Date.now(), { payloadHash: hash("{}") });
    expect(v).toEqual({ ok: true, accessKeyId: keys.accessKeyId, path: "/", query: "" });
  });

  it("refuses the same request with another body (DynamoDB signs its payload)", () => {
    const v = verifySigV4(signed("/"), secrets, Date.now(), { payloadHash: hash('{"TableName":"other"}') });
    expect(v).toMatchObject({ ok: false, code: "SignatureDoesNotMatch" });
  });

  it("refuses an x-amz-* header that is not signed", () => {
    const req = signed("/");
    const v = verifySigV4(
      { ...req, headers: { ...req.headers, "x-amz-copy-source": "/bucket/secret" } },
      secrets,
      Date.now(),
      { payloadHash: hash("{}") },
    );
    expect(v).toEqual({ ok: false, code: "AccessDenied", message: "These headers must be signed: x-amz-copy-source." });
  });

  it("refuses a header-signed request dated more than 15 minutes away", () => {
    const v = verifySigV4(signed("/"), secrets, Date.now() + 16 * 60_000, { payloadHash: hash("{}") });
    expect(v).toMatchObject({ ok: false, code: "RequestTimeTooSkewed" });
  });

  it("refuses a name given twice and more than 64 parameters, before looking at the signature", () => {
    expect(verifySigV4({ method: "PUT", url: "/b/k?partNumber=1&partNumber=2", headers: {} }, secrets)).toMatchObject({
      ok: false,
      message: "The query parameter partNumber is given more than once.",
    });
    expect(
      verifySigV4({ method: "PUT", url: "/b/k?X-Amz-Signature=a&x-amz-signature=b", headers: {} }, secrets),
    ).toMatchObject({ ok: false, message: /given more than once/ });
    const many = Array.from({ length: 65 }, (_, i) => `p${i}=1`).join("&");
    expect(verifySigV4({ method: "PUT", url: `/b/k?${many}`, headers: {} }, secrets)).toMatchObject({
      ok: false,
      message: /65 parameters; at most 64/,
    });
  });

  it("refuses both ways of signing at once, and SigV4 parameters without a signature", () => {
    const req = signed("/?X-Amz-Credential=x");
    expect(verifySigV4(req, secrets)).toMatchObject({ ok: false, message: /Only one way of signing/ });
    expect(
      verifySigV4({ method: "GET", url: "/b/k?X-Amz-Credential=x&X-Amz-Date=20260101T000000Z", headers: {} }, secrets),
    ).toMatchObject({ ok: false, message: "The presigned URL has no X-Amz-Signature." });
  });
});
