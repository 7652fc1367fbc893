import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { ShareInput, ShareToken, type Share } from "../contract.ts";
import type { ShareItem } from "../db/index.ts";
import { NotFoundError } from "../errors.ts";
import { newId } from "../upload/lifecycle.ts";
import type { Deps } from "../deps.ts";
import { getVideo, ownedVideo } from "./library.ts";

/**
 * Share links: a token `<shareId>.<secret>` lets anyone who holds it watch one video until the link expires or
 * its owner revokes it. The secret is 32 random bytes; only its SHA-256 is stored, compared in constant time.
 * The media a shared page plays are the same playlists the owner's player gets, with segment URLs that live
 * for the video's length plus a margin (never the link's lifetime).
 */

const DAY_MS = 86_400_000;
const hash = (secret: string) => createHash("sha256").update(secret).digest("hex");

function view(s: ShareItem): Share {
  return {
    shareId: s.shareId,
    videoId: s.videoId,
    createdAt: s.createdAt,
    expiresAt: s.expiresAt,
    revokedAt: s.revokedAt ?? null,
  };
}

/** `POST /videos/{id}/shares`: a new link; its token is in this answer only. */
export async function createShare(
  deps: Pick<Deps, "db" | "jobs">,
  owner: string,
  videoId: string,
  raw: unknown,
): Promise<Share> {
  const { expiresInDays } = ShareInput.parse(raw ?? {});
  await ownedVideo(deps, owner, videoId);
  const shareId = newId();
  const secret = randomBytes(32).toString("base64url");
  const createdAt = Date.now();
  const item = {
    shareId,
    videoId,
    owner,
    secretHash: hash(secret),
    createdAt,
    expiresAt: createdAt + Math.round(expiresInDays * DAY_MS),
  };
  await deps.db.entities.share.create(item).go();
  const token = `${shareId}.${secret}`;
  return { ...view(item), token, path: `/s/${token}` };
}

/** `GET /videos/{id}/shares`: the video's links, newest first, revoked and expired ones included. */
export async function listShares(deps: Pick<Deps, "db" | "jobs">, owner: string, videoId: string) {
  await ownedVideo(deps, owner, videoId);
  const res = await deps.db.entities.share.query.byVideo({ videoId }).go({ order: "desc", pages: "all" });
  return { shares: res.data.filter((s) => s.owner === owner).map(view) };
}

/** `DELETE /videos/{id}/shares/{shareId}`: the link stops working at once; revoking twice is the same. */
export async function revokeShare(deps: Pick<Deps, "db" | "jobs">, owner: string, videoId: string, shareId: string) {
  await ownedVideo(deps, owner, videoId);
  const share = (await deps.db.entities.share.get({ shareId }).go()).data;
  if (!share || share.videoId !== videoId || share.owner !== owner)
    throw new NotFoundError(`No share link ${shareId}.`);
  if (share.revokedAt !== undefined) return view(share);
  const after = await deps.db.entities.share.patch({ shareId }).set({ revokedAt: Date.now() }).go({
    response: "all_new",
  });
  return view(after.data as ShareItem);
}

/**
 * The video a token opens, or a 404 saying why not: no such link (a wrong secret looks the same), revoked,
 * expired, or the video is gone. Never another video than the one the link was made for.
 */
export async function resolveShare(deps: Pick<Deps, "db" | "jobs">, token: string, now = Date.now()) {
  const parsed = ShareToken.safeParse(token);
  const [shareId, secret] = parsed.success ? parsed.data.split(".") : [];
  const share = shareId ? (await deps.db.entities.share.get({ shareId }).go()).data : null;
  const given = Buffer.from(hash(secret ?? ""), "hex");
  if (!share || !timingSafeEqual(given, Buffer.from(share.secretHash, "hex")))
    throw new NotFoundError("This share link does not exist. Ask whoever sent it for a new one.");
  if (share.revokedAt !== undefined)
    throw new NotFoundError("This share link was revoked by the video's owner. Ask them for a new one.");
  if (share.expiresAt <= now)
    throw new NotFoundError(
      `This share link expired on ${new Date(share.expiresAt).toISOString().slice(0, 10)}. Ask for a new one.`,
    );
  // the video as its owner would get it: a deleted or unfinished one is a 404 here too
  await ownedVideo(deps, share.owner, share.videoId).catch(() => {
    throw new NotFoundError("The video this link shared is no longer available.");
  });
  return { owner: share.owner, videoId: share.videoId, expiresAt: share.expiresAt };
}

/** `GET /shared/{token}`: the video and where its stream is, for someone without an account. */
export async function sharedVideo(deps: Pick<Deps, "db" | "jobs" | "store" | "cfg">, token: string) {
  const { owner, videoId, expiresAt } = await resolveShare(deps, token);
  const video = await getVideo(deps, owner, videoId);
  const job = await deps.jobs.getJob(videoId);
  return { video, hls: job?.hls ? `/shared/${token}/hls/master.m3u8` : null, expiresAt };
}

/** The video's share links, removed with it (the deleter). */
export async function deleteShares(deps: Pick<Deps, "db">, videoId: string): Promise<void> {
  const res = await deps.db.entities.share.query.byVideo({ videoId }).go({ pages: "all" });
  if (res.data.length) await deps.db.entities.share.delete(res.data.map((s) => ({ shareId: s.shareId }))).go();
}
