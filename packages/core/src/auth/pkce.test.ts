import { describe, expect, it } from "vitest";
import {
  authorizeUrl,
  base64url,
  challengeOf,
  codeExchange,
  createState,
  createVerifier,
  domainUrl,
  jwtClaims,
  logoutUrl,
  refreshAt,
  refreshExchange,
} from "./pkce.ts";

const client = {
  domain: "videoforge-prod.auth.eu-west-1.amazoncognito.com",
  clientId: "4abc5defghij6klmno7pqrstu8",
  redirectUri: "https://d111111abcdef8.cloudfront.net/",
};

describe("PKCE (RFC 7636)", () => {
  it("derives the S256 challenge of RFC 7636's appendix B example", async () => {
    // the RFC's own verifier and challenge
    expect(await challengeOf("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).toBe(
      "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    );
    expect(
      base64url(
        new Uint8Array([
          116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105, 214, 191,
          240, 91, 88, 5, 88, 83, 132, 141, 121,
        ]),
      ),
    ).toBe("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
  });

  it("makes verifiers of 43+ unreserved characters, a new one every time", () => {
    const seen = new Set(Array.from({ length: 50 }, () => createVerifier()));
    expect(seen.size).toBe(50);
    for (const v of seen) expect(v).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(createVerifier(96)).toMatch(/^[A-Za-z0-9_-]{128}$/);
    expect(() => createVerifier(31)).toThrow(/32 to 96/);
    expect(createState()).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it("refuses a verifier the RFC does not allow", async () => {
    await expect(challengeOf("short")).rejects.toThrow(/43 to 128/);
    await expect(challengeOf("a".repeat(42) + "+")).rejects.toThrow(/43 to 128/);
  });
});

describe("the Cognito hosted UI requests", () => {
  it("builds the authorize URL with the code flow, S256 challenge, state and callback", () => {
    const url = new URL(
      authorizeUrl(client, { challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", state: "st4te" }),
    );
    expect(url.origin + url.pathname).toBe("https://videoforge-prod.auth.eu-west-1.amazoncognito.com/oauth2/authorize");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: "code",
      client_id: "4abc5defghij6klmno7pqrstu8",
      redirect_uri: "https://d111111abcdef8.cloudfront.net/",
      scope: "openid email",
      state: "st4te",
      code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
      code_challenge_method: "S256",
    });
  });

  it("exchanges the code with the verifier in a form body, and refreshes with the refresh token", () => {
    const exchange = codeExchange(client, "c0de", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
    expect(exchange).toEqual({
      url: "https://videoforge-prod.auth.eu-west-1.amazoncognito.com/oauth2/token",
      init: {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
        body:
          "grant_type=authorization_code&client_id=4abc5defghij6klmno7pqrstu8&code=c0de" +
          "&redirect_uri=https%3A%2F%2Fd111111abcdef8.cloudfront.net%2F" +
          "&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
      },
    });
    expect(refreshExchange(client, "r3fresh").init.body).toBe(
      "grant_type=refresh_token&client_id=4abc5defghij6klmno7pqrstu8&refresh_token=r3fresh",
    );
  });

  it("signs out through the hosted UI's /logout back to the given address", () => {
    expect(logoutUrl(client, "https://d111111abcdef8.cloudfront.net/")).toBe(
      "https://videoforge-prod.auth.eu-west-1.amazoncognito.com/logout?client_id=4abc5defghij6klmno7pqrstu8" +
        "&logout_uri=https%3A%2F%2Fd111111abcdef8.cloudfront.net%2F",
    );
  });

  it("accepts https domains, and plain http only on loopback", () => {
    expect(domainUrl("auth.example.com")).toBe("https://auth.example.com");
    expect(domainUrl("https://auth.example.com/")).toBe("https://auth.example.com");
    expect(domainUrl("http://127.0.0.1:4567")).toBe("http://127.0.0.1:4567");
    expect(() => domainUrl("http://auth.example.com")).toThrow(/must use https/);
  });

  it("refreshes a minute before expiry, or at 80 % of a short lifetime", () => {
    expect(refreshAt({ expiresAt: 3_600_000 }, 0)).toBe(3_540_000);
    expect(refreshAt({ expiresAt: 10_000 }, 0)).toBe(8_000);
  });

  it("reads an ID token's claims (display only)", () => {
    const payload = Buffer.from(JSON.stringify({ sub: "u-1", email: "zoë@example.com" })).toString("base64url");
    expect(jwtClaims(`x.${payload}.sig`)).toEqual({ sub: "u-1", email: "zoë@example.com" });
    expect(jwtClaims("not a jwt")).toEqual({});
  });
});
