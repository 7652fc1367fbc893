import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { NotFoundError } from "../errors.ts";
import { ownedJob } from "../job/queries.ts";
import { keys, withScratch, type Deps } from "../deps.ts";
import type { Config } from "../config.ts";
import {
  PREVIEW_AUDIO,
  PREVIEW_PLAYLIST,
  previewAudioPlaylistKey,
  previewed,
  previewMasterPlaylist,
  previewMediaPlaylist,
} from "./preview.ts";

/**
 * HLS through the API. The stored playlists name their children by relative path, and a
 * presigned URL signs one object only, so a player given the master's presigned URL could
 * not fetch anything else. The API serves the playlists instead: the master points at the
 * API's media-playlist routes, and each media playlist points at presigned segment URLs
 * that live as long as the video plays (playbackUrlSeconds).
 */

/** A playlist line or `URI="…"` attribute value that names a sibling file, e.g. `360p/index.m3u8`. */
const RELATIVE_PATH = /^(?:[A-Za-z0-9_-][A-Za-z0-9_.-]*\/)*[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;

/**
 * Replace every URI in an M3U8 playlist — plain URI lines and `URI="…"` attributes of tags
 * such as EXT-X-MAP or EXT-X-MEDIA — with `rewrite(uri)`. URIs that are not plain relative
 * paths (absolute URLs, `..`) are refused: the stored playlists never contain them.
 */
export async function rewritePlaylistUris(
  text: string,
  rewrite: (uri: string) => string | Promise<string>,
): Promise<string> {
  const check = (uri: string) => {
    if (!RELATIVE_PATH.test(uri) || uri.split("/").includes(".."))
      throw new Error(`playlist URI "${uri}" is not a relative path`);
    return rewrite(uri);
  };
  const lines = text.split(/\r?\n/);
  const out = await Promise.all(
    lines.map(async (line) => {
      const trimmed = line.trim();
      if (trimmed === "") return line;
      if (!trimmed.startsWith("#")) return check(trimmed);
      const attrs = [...trimmed.matchAll(/URI="([^"]*)"/g)];
      if (!attrs.length) return line;
      const replaced = await Promise.all(attrs.map((m) => check(m[1]!)));
      let i = 0;
      return trimmed.replace(/URI="([^"]*)"/g, () => `URI="${replaced[i++]}"`);
    }),
  );
  return out.join("\n");
}

/** A rendition folder name as the assembler writes it (`720p`, `1078p`). */
const RENDITION = /^[A-Za-z0-9_-]{1,32}$/;
const PLAYLIST_FILE = /^[A-Za-z0-9_-]{1,64}\.m3u8$/;

async function readStoredText(
  deps: Pick<Deps, "store" | "cfg">,
  key: string,
  bucket = deps.cfg.buckets.outputs,
): Promise<string> {
  if (!(await deps.store.head(bucket, key))) throw new NotFoundError("No such playlist.");
  return withScratch(deps.cfg, async (dir) => {
    const file = join(dir, "playlist.m3u8");
    await deps.store.download(bucket, key, file);
    return readFile(file, "utf8");
  });
}

async function completedJob(deps: Partial<Pick<Deps, "db" | "jobs">>, owner: string, jobId: string) {
  const job = await ownedJob(deps, owner, jobId);
  if (job.status !== "COMPLETED" || !job.hls) throw new NotFoundError(`Job ${jobId} has no HLS stream yet.`);
  return job;
}

/**
 * The job's master playlist with each variant pointing at `mediaUrl(rendition, file)`
 * (the API's media-playlist route). Someone else's job is a 404, like any job route.
 */
export async function hlsMasterPlaylist(
  deps: Pick<Deps, "db" | "store" | "cfg">,
  owner: string,
  jobId: string,
  mediaUrl: (rendition: string, file: string) => string,
) {
  const job = await ownedJob(deps, owner, jobId);
  // before the verified outputs exist, a playable job's growing preview
  if (job.status !== "COMPLETED") return previewMasterPlaylist(deps, job, mediaUrl);
  if (!job.hls) throw new NotFoundError(`Job ${jobId} has no HLS stream.`);
  const text = await readStoredText(deps, `${keys.hlsDir(jobId)}/master.m3u8`);
  return rewritePlaylistUris(text, (uri) => {
    const [rendition, file, ...rest] = uri.split("/");
    if (!rendition || !file || rest.length || !RENDITION.test(rendition) || !PLAYLIST_FILE.test(file))
      throw new Error(`unexpected variant URI "${uri}" in the master playlist`);
    return mediaUrl(rendition, file);
  });
}

/**
 * How long a segment URL must live: a player fetches segments while the video plays, so
 * URLs that die before the end stop playback (5 minutes in, with the download lifetime).
 * The video's duration plus a margin for pauses and seeking, at least the download
 * lifetime, at most `playbackMax` (SigV4 allows 7 days). A role's temporary credentials
 * can end a URL sooner: see docs/deploy-aws.md.
 */
export function playbackUrlSeconds(cfg: Pick<Config, "urlSeconds">, durationSeconds: number): number {
  const { download, playbackMargin, playbackMax } = cfg.urlSeconds;
  const wanted = Math.ceil(Math.max(0, durationSeconds) + playbackMargin);
  return Math.min(playbackMax, Math.max(download, wanted));
}

/** The sum of a media playlist's `#EXTINF` durations, in seconds. */
export function playlistDuration(text: string): number {
  let total = 0;
  for (const m of text.matchAll(/^#EXTINF:\s*([0-9.]+)/gm)) total += Number(m[1]) || 0;
  return total;
}

/**
 * A stored media playlist (`dir` is its folder in the outputs bucket) with every segment as
 * a presigned URL valid for {@link playbackUrlSeconds} of the longer of the source's and the
 * playlist's own duration.
 */
export async function signMediaPlaylist(
  deps: Pick<Deps, "store" | "cfg">,
  text: string,
  dir: string,
  sourceDuration = 0,
) {
  const expires = playbackUrlSeconds(deps.cfg, Math.max(sourceDuration, playlistDuration(text)));
  return rewritePlaylistUris(text, (uri) => deps.store.presignGet(deps.cfg.buckets.outputs, `${dir}/${uri}`, expires));
}

/** One rendition's media playlist with every segment as a presigned URL that outlives the video. */
export async function hlsMediaPlaylist(
  deps: Pick<Deps, "db" | "store" | "cfg">,
  owner: string,
  jobId: string,
  rendition: string,
  file: string,
) {
  if (!RENDITION.test(rendition) || !PLAYLIST_FILE.test(file)) throw new NotFoundError("No such playlist.");
  if (file === PREVIEW_PLAYLIST) {
    const job = await ownedJob(deps, owner, jobId);
    const expires = playbackUrlSeconds(deps.cfg, job.source?.duration ?? 0);
    if (rendition !== PREVIEW_AUDIO) return previewMediaPlaylist(deps, job, rendition, expires);
    // the sound, cut into segments by the chunker: stored whole before the job could be playable
    previewed(job);
    const work = deps.cfg.buckets.work;
    const dir = keys.previewAudioDir(jobId);
    const text = await readStoredText(deps, previewAudioPlaylistKey(jobId), work);
    return rewritePlaylistUris(text, (uri) => deps.store.presignGet(work, `${dir}/${uri}`, expires));
  }
  const job = await completedJob(deps, owner, jobId);
  const dir = `${keys.hlsDir(jobId)}/${rendition}`;
  const text = await readStoredText(deps, `${dir}/${file}`);
  return signMediaPlaylist(deps, text, dir, job.source?.duration ?? 0);
}

/**
 * A stored MPD's references, relative to `dash/`: `sourceURL` of Initialization and `media` of SegmentURL
 * (attributes), and the captions tracks' `<BaseURL>` (an element).
 */
const MPD_URL = /\b(sourceURL|media)="([^"]*)"|<BaseURL>([^<]*)<\/BaseURL>/g;
/** What a resolved reference may name: a file under the job's `hls/<representation>/` folder. */
const STREAM_FILE = /^hls\/[A-Za-z0-9_-]{1,32}\/[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$/;

/**
 * Replace every `sourceURL` and `media` reference of a DASH manifest with `sign(path)`, the path
 * resolved from the manifest's folder (`../hls/720p/seg_00001.m4s` → `hls/720p/seg_00001.m4s`) and
 * XML-escaped (a presigned URL carries `&`). Anything that resolves outside `hls/<id>/` is refused:
 * the stored manifests never name such a file.
 */
export async function rewriteMpdUrls(text: string, sign: (path: string) => string | Promise<string>): Promise<string> {
  const refs = [...text.matchAll(MPD_URL)].map((m) => m[2] ?? m[3]!);
  const signed = new Map<string, string>();
  for (const ref of new Set(refs)) {
    const path = ref.startsWith("../") ? ref.slice(3) : `dash/${ref}`;
    if (!STREAM_FILE.test(path) || path.split("/").includes(".."))
      throw new Error(`manifest reference "${ref}" is not a stream file`);
    signed.set(ref, escapeXml(await sign(path)));
  }
  return text.replace(MPD_URL, (_, attr: string | undefined, ref: string | undefined, base: string | undefined) =>
    attr ? `${attr}="${signed.get(ref!)}"` : `<BaseURL>${signed.get(base!)}</BaseURL>`,
  );
}

const escapeXml = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** The job's DASH manifest with every init and media segment as a presigned URL that outlives the video. */
export async function dashManifest(deps: Pick<Deps, "db" | "store" | "cfg">, owner: string, jobId: string) {
  const job = await completedJob(deps, owner, jobId);
  if (job.packaging === "ts")
    throw new NotFoundError(`Job ${jobId} is streamed as MPEG-TS HLS (packaging "ts"), which has no DASH manifest.`);
  const text = await readStoredText(deps, keys.dash(jobId));
  const expires = playbackUrlSeconds(deps.cfg, job.source?.duration ?? 0);
  return rewriteMpdUrls(text, (path) =>
    deps.store.presignGet(deps.cfg.buckets.outputs, `jobs/${jobId}/${path}`, expires),
  );
}

/** A storyboard cue's payload: a sheet beside the VTT and its tile, `sheet_000.jpg#xywh=0,0,160,90`. */
const SHEET_CUE = /^(sheet_\d{3,5}\.jpg)(#xywh=\d+,\d+,\d+,\d+)$/;

/**
 * The job's storyboard (WebVTT seek previews) with every sheet as a presigned URL that outlives the
 * video; the `#xywh=` fragment stays. Lines that name anything but a sheet are refused.
 */
export async function storyboardTrack(deps: Pick<Deps, "db" | "store" | "cfg">, owner: string, jobId: string) {
  const job = await completedJob(deps, owner, jobId);
  const text = await readStoredText(deps, keys.storyboard(jobId));
  const expires = playbackUrlSeconds(deps.cfg, job.source?.duration ?? 0);
  const dir = keys.storyboard(jobId).slice(0, keys.storyboard(jobId).lastIndexOf("/"));
  const signed = new Map<string, string>();
  const lines = text.split("\n");
  for (const [i, line] of lines.entries()) {
    if (line === "" || line.startsWith("WEBVTT") || line.includes("-->")) continue;
    const m = SHEET_CUE.exec(line);
    if (!m) throw new Error(`storyboard line ${i + 1} does not name a sheet`);
    if (!signed.has(m[1]!))
      signed.set(m[1]!, await deps.store.presignGet(deps.cfg.buckets.outputs, `${dir}/${m[1]}`, expires));
    lines[i] = `${signed.get(m[1]!)}${m[2]}`;
  }
  return lines.join("\n");
}
