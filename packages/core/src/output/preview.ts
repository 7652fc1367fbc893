import { makeEvent, Rendition } from "@videoforge/events";
import { z } from "zod";
import type { ChunkItem, JobItem } from "../db/index.ts";
import { DEFAULT_FORMATS, videoFormatsOf } from "../media/formats.ts";
import { NotFoundError } from "../errors.ts";
import { keys, type Deps } from "../deps.ts";

/**
 * Progressive publish. The encoded H.264 chunks are MPEG-TS in the source's own timeline (the assembler joins
 * them byte-wise), so the chunks encoded from the start on are already an HLS stream: the API lists them, in
 * order, in EVENT playlists that grow as chunks are encoded and end once every chunk is. The job is playable
 * from its first chunk (PlaybackReady) while the rest encode, and is COMPLETED only when the assembled outputs
 * are verified; then the stored, packaged playlists replace the preview (a player already on it plays on).
 */

/** The preview's media playlist file, beside each rung's stored `index.m3u8` in the API's routes. */
export const PREVIEW_PLAYLIST = "preview.m3u8";
/** The preview's audio rendition in the API's routes (no rung is called this: rung names end in `p`). */
export const PREVIEW_AUDIO = "audio";
/** Where the chunker stores the preview's audio playlist (work bucket), beside its segments. */
export const previewAudioPlaylistKey = (jobId: string) => `${keys.previewAudioDir(jobId)}/${PREVIEW_PLAYLIST}`;

/** Statuses in which a playable job's preview is served: encoding, assembling and (for players on it) after. */
const PREVIEWED = new Set(["ENCODING", "ASSEMBLING", "COMPLETED"]);

/** The H.264 chunk set of a job (the preview's), once the chunker has counted every chunk; null without one. */
function h264Set(job: Pick<JobItem, "formats" | "chunkCount">): { pieces: number } | null {
  const codecs = videoFormatsOf(job.formats ?? DEFAULT_FORMATS);
  // H.264 sorts first among the formats, so its chunk of piece p is chunk p
  if (codecs[0] !== "h264" || !job.chunkCount) return null;
  return { pieces: job.chunkCount / codecs.length };
}

/** How many H.264 chunks from the first on are encoded (the preview's length in chunks). */
function playablePrefix(encoded: ReadonlySet<number>, pieces: number): number {
  let n = 0;
  while (n < pieces && encoded.has(n)) n++;
  return n;
}

/**
 * PlaybackReady when the job's state says it is due: chunked (its audio stored, its count known), not yet
 * playable, and the first H.264 chunk encoded. Called by the tracker after each chunk and by the chunker's last
 * write, whichever sees it first; the job row's `playableAt` is written once, so one of them announces.
 */
export async function announceIfPlayable(deps: Pick<Deps, "jobs" | "events" | "log">, job: JobItem): Promise<boolean> {
  if (job.playableAt !== undefined || (job.status !== "ENCODING" && job.status !== "ASSEMBLING")) return false;
  const set = h264Set(job);
  if (!set) return false;
  const segments = playablePrefix(new Set(job.encodedChunks ?? []), set.pieces);
  if (segments === 0) return false;
  if (!(await deps.jobs.markPlayable(job.jobId, Date.now()))) return false;
  // a publish that fails now leaves the job playable (what the API and the page read) without the event:
  // webhooks then hear video.ready with completion, which maps to it too
  const variants = renditionsOf(job).map((r) => r.name);
  await deps.events.publish(makeEvent("PlaybackReady", { jobId: job.jobId, variants, segments }));
  deps.log.info("playable", { jobId: job.jobId, segments });
  return true;
}

const renditionsOf = (job: Pick<JobItem, "renditions">): Rendition[] => z.array(Rendition).parse(job.renditions);

/** A job whose preview may be served, and its H.264 set; else "not playable yet" (a 404 the player retries). */
export function previewed(job: JobItem) {
  const set = h264Set(job);
  if (job.playableAt === undefined || !PREVIEWED.has(job.status) || !set)
    throw new NotFoundError(`Job ${job.jobId} is not playable yet.`);
  return set;
}

/**
 * The preview's master playlist: one variant per H.264 rung, each pointing at `mediaUrl(rung, "preview.m3u8")`,
 * and the sound as an audio rendition when the chunker stored one. CODECS is left out: the profile and
 * level are the encoder's to choose, and players probe the segments.
 */
export async function previewMasterPlaylist(
  deps: Pick<Deps, "store" | "cfg">,
  job: JobItem,
  mediaUrl: (rendition: string, file: string) => string,
): Promise<string> {
  previewed(job);
  const audio = (await deps.store.head(deps.cfg.buckets.work, previewAudioPlaylistKey(job.jobId))) !== null;
  const lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-INDEPENDENT-SEGMENTS"];
  if (audio)
    lines.push(
      `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="audio",DEFAULT=YES,AUTOSELECT=YES,` +
        `URI="${mediaUrl(PREVIEW_AUDIO, PREVIEW_PLAYLIST)}"`,
    );
  for (const r of renditionsOf(job)) {
    // the peak: the rung's cap, and the sound's 128 kbit/s beside it
    const bandwidth = r.maxrate * 1000 + (audio ? 128_000 : 0);
    const group = audio ? `,AUDIO="audio"` : "";
    lines.push(`#EXT-X-STREAM-INF:BANDWIDTH=${bandwidth},RESOLUTION=${r.width}x${r.height}${group}`);
    lines.push(mediaUrl(r.name, PREVIEW_PLAYLIST));
  }
  return `${lines.join("\n")}\n`;
}

/**
 * One rung's preview: an EVENT playlist of its encoded chunks from the first on, each a presigned URL into the
 * work bucket, with ENDLIST once every chunk is there. The target duration comes from every chunk of the set,
 * encoded or not, so it holds while the playlist grows.
 */
export async function previewMediaPlaylist(
  deps: Pick<Deps, "db" | "store" | "cfg">,
  job: JobItem,
  rendition: string,
  /** How long each segment URL lives (hls-urls.ts `playbackUrlSeconds`). */
  expires: number,
) {
  const { pieces } = previewed(job);
  if (!renditionsOf(job).some((r) => r.name === rendition)) throw new NotFoundError("No such playlist.");
  const { data } = await deps.db.entities.chunk.query.byJob({ jobId: job.jobId }).go({ pages: "all" });
  const rows = data as ChunkItem[];
  const set = rows.filter((c) => c.index < pieces).sort((a, b) => a.index - b.index);
  const encoded = new Set(set.filter((c) => c.status === "ENCODED").map((c) => c.index));
  const playable = set.slice(0, playablePrefix(encoded, pieces));
  const target = Math.max(1, ...set.map((c) => Math.ceil(Math.max(c.duration, c.maxDuration ?? 0))));
  const lines = [
    "#EXTM3U",
    "#EXT-X-VERSION:3",
    "#EXT-X-PLAYLIST-TYPE:EVENT",
    `#EXT-X-TARGETDURATION:${target}`,
    "#EXT-X-MEDIA-SEQUENCE:0",
  ];
  for (const c of playable) {
    const key = segmentKey(c, rendition);
    lines.push(`#EXTINF:${c.duration.toFixed(6)},`, await deps.store.presignGet(deps.cfg.buckets.work, key, expires));
  }
  if (playable.length === pieces) lines.push("#EXT-X-ENDLIST");
  return `${lines.join("\n")}\n`;
}

const EncodedOutputs = z.array(z.object({ rendition: z.string(), key: z.string() }));

/** The stored key of a chunk's encoding of one rung, as the encoder recorded it. */
function segmentKey(chunk: ChunkItem, rendition: string): string {
  const key = EncodedOutputs.parse(chunk.outputs ?? []).find((o) => o.rendition === rendition)?.key;
  if (!key) throw new Error(`chunk ${chunk.index} has no ${rendition} output`);
  return key;
}
