import type { Context, Hono } from "hono";
import { envelopeJobId } from "@videoforge/core";
import { errorBody } from "@videoforge/functions/api/errors";
import type { LocalCloud } from "../cloud.ts";
import { DEFAULT_USER } from "./auth.ts";

type Identify = (c: Context) => string | null;

/**
 * Operator routes of the local cloud: the dead-letter store, for `videoforge dlq`. Only the
 * machine's own user (the token `up` made) may use them; other users get 404 like any id
 * they do not own. On AWS the same job is done by SQS's own redrive.
 */
export function mountAdminRoutes(app: Hono<{ Variables: { owner: string } }>, cloud: LocalCloud, identify: Identify) {
  app.use("/admin/*", async (c, next) => {
    const who = identify(c);
    if (!who) return c.json(errorBody("unauthorized", "Missing or wrong API token."), 401);
    if (who !== DEFAULT_USER) return c.json(errorBody("not_found", `No route ${c.req.method} ${c.req.path}.`), 404);
    await next();
  });

  app.get("/admin/dead-letters", async (c) => {
    const letters = await cloud.dlq.list();
    return c.json({
      deadLetters: letters.map((l) => ({
        id: l.id,
        queue: l.queue,
        rule: l.subscription,
        event: l.envelope["detail-type"],
        jobId: envelopeJobId(l.envelope),
        chunk: (l.envelope.detail as { chunk?: { index?: number } }).chunk?.index ?? null,
        attempts: l.attempts,
        error: l.error,
        failedAt: l.failedAt,
      })),
    });
  });

  // NotFoundError / ConflictError from redrive become 404 / 409 through the API's own error mapping
  app.post("/admin/dead-letters/:id/redrive", async (c) => {
    const { letter } = await cloud.redrive(c.req.param("id"));
    return c.json({ id: letter.id, rule: letter.subscription, redriven: true }, 202);
  });
}
