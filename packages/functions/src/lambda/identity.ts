import type { Context } from "hono";
import type { LambdaEvent } from "hono/aws-lambda";

/**
 * The owner of a request on AWS: API Gateway's JWT authorizer has already verified the
 * Cognito token, so the claims in the request context can be trusted; `sub` is stable for
 * a user. No claims (a route without the authorizer) means nobody.
 */
export function ownerFromJwtClaims(c: Context<{ Bindings: { event: LambdaEvent } }>): string | null {
  const event = c.env?.event as
    | { requestContext?: { authorizer?: { jwt?: { claims?: Record<string, unknown> } } } }
    | undefined;
  const sub = event?.requestContext?.authorizer?.jwt?.claims?.sub;
  return typeof sub === "string" && /^[A-Za-z0-9-]{1,128}$/.test(sub) ? `cognito:${sub}` : null;
}
