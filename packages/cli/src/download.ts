import { createWriteStream } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, relative, resolve, sep } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ApiClient } from "./api-client.ts";

/** One file written by {@link downloadJob}, relative to the output folder. */
export interface DownloadedFile {
  path: string;
  bytes: number;
}

/**
 * Every output of a finished job into `out`, laid out as `videoforge encode` writes it and
 * as the job stores it: `<rendition>.mp4`, `hls/master.m3u8`, `hls/<rendition>/index.m3u8`
 * with its segments, `poster.jpg`. Everything comes through the API: the MP4s, the master
 * playlist and the poster by their presigned URLs, each media playlist from the API's
 * playlist route (its segment URIs are presigned) and written back with relative URIs.
 * Every file's size is checked: MP4s against the job's record, the others against the
 * response's Content-Length.
 */
export async function downloadJob(client: ApiClient, jobId: string, out: string): Promise<DownloadedFile[]> {
  const outputs = await client.outputs(jobId);
  if (outputs.status !== "COMPLETED")
    throw new Error(`job ${jobId} is ${outputs.status}: only a COMPLETED job has outputs to download`);
  await mkdir(out, { recursive: true });
  const files: DownloadedFile[] = [];
  const fetchTo = async (url: string, path: string, expectedBytes?: number) => {
    files.push({ path, bytes: await fetchFile(url, inside(out, path), expectedBytes) });
  };

  // each file under the name it has in storage: 720p.mp4, 720p-vp9.webm, audio.mp3
  for (const o of [...outputs.outputs, ...outputs.audio]) await fetchTo(o.url, basename(o.key), o.bytes);
  for (const c of outputs.captions) await fetchTo(c.url, `captions/${basename(c.key)}`, c.bytes);
  if (outputs.poster) await fetchTo(outputs.poster, "poster.jpg");
  // the stored manifest names the HLS folders' segments relatively (../hls/<id>/…), fetched below
  if (outputs.dash) await writeInside(out, "dash/manifest.mpd", await fetchText(outputs.dash), files);
  await downloadStoryboard(client, jobId, out, files, fetchTo);
  if (outputs.hls) {
    const master = await fetchText(outputs.hls);
    await writeInside(out, "hls/master.m3u8", master, files);
    for (const variant of playlistUris(master)) {
      const [rendition, file, ...rest] = variant.split("/");
      if (!rendition || !file || rest.length) throw new Error(`unexpected variant "${variant}" in the master playlist`);
      const media = await client.mediaPlaylist(jobId, rendition, file);
      // segment URIs are presigned URLs of `jobs/<id>/hls/<rendition>/<name>`: fetch each, keep `<name>`
      const prefix = `jobs/${jobId}/hls/${rendition}/`;
      const local = new Map<string, string>();
      for (const url of playlistUris(media)) {
        const path = decodeURIComponent(new URL(url).pathname);
        const at = path.indexOf(prefix);
        if (at < 0) throw new Error(`segment URL outside the job's ${rendition} folder: ${path}`);
        const name = path.slice(at + prefix.length);
        local.set(url, name);
        await fetchTo(url, `hls/${rendition}/${name}`);
      }
      await writeInside(
        out,
        `hls/${rendition}/${file}`,
        replaceUris(media, (uri) => local.get(uri) ?? uri),
        files,
      );
    }
  }
  return files;
}

/** The URIs an M3U8 playlist names: its plain lines and every `URI="…"` attribute. */
function playlistUris(text: string): string[] {
  const uris: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    if (!line.startsWith("#")) uris.push(line);
    else for (const m of line.matchAll(/URI="([^"]*)"/g)) uris.push(m[1]!);
  }
  return uris;
}

function replaceUris(text: string, rewrite: (uri: string) => string): string {
  return text
    .split("\n")
    .map((raw) => {
      const line = raw.replace(/\r$/, "");
      const cr = raw.endsWith("\r") ? "\r" : "";
      const trimmed = line.trim();
      if (!trimmed) return raw;
      if (!trimmed.startsWith("#")) return rewrite(trimmed) + cr;
      return line.replace(/URI="([^"]*)"/g, (_, uri: string) => `URI="${rewrite(uri)}"`) + cr;
    })
    .join("\n");
}

/** `out/<path>`, refusing a path that would leave `out` (names come from the server). */
function inside(out: string, path: string): string {
  const target = resolve(out, path);
  const rel = relative(out, target);
  if (!rel || rel.startsWith("..") || rel.includes(`..${sep}`) || resolve(out, rel) !== target)
    throw new Error(`refusing to write outside ${out}: ${path}`);
  return target;
}

async function writeInside(out: string, path: string, text: string, files: DownloadedFile[]) {
  const target = inside(out, path);
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, text);
  files.push({ path, bytes: Buffer.byteLength(text) });
}

async function fetchText(url: string): Promise<string> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${redact(url)} → ${res.status} ${await reason(res)}`);
  return res.text();
}

/** Stream `url` to `file` (through a temporary name), checking the byte count; returns it. */
async function fetchFile(url: string, file: string, expectedBytes?: number): Promise<number> {
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new Error(`GET ${redact(url)} → ${res.status} ${await reason(res)}`);
  const length = res.headers.get("content-length");
  const expected = expectedBytes ?? (length === null ? undefined : Number(length));
  await mkdir(dirname(file), { recursive: true });
  const partial = `${file}.part`;
  let bytes = 0;
  const body = Readable.fromWeb(res.body as import("node:stream/web").ReadableStream<Uint8Array>);
  body.on("data", (chunk: Buffer) => (bytes += chunk.length));
  try {
    await pipeline(body, createWriteStream(partial));
    if (expected !== undefined && bytes !== expected)
      throw new Error(`${file}: got ${bytes} bytes, expected ${expected}`);
    await rename(partial, file);
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
  return bytes;
}

/** S3's `<Code>` and `<Message>` from an error body, or its first line. */
async function reason(res: Response): Promise<string> {
  const body = await res.text().catch(() => "");
  const field = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(body)?.[1];
  return [field("Code"), field("Message")].filter(Boolean).join(": ") || body.split("\n")[0]!.slice(0, 200);
}

/** A presigned URL without its signature, for error messages. */
const redact = (url: string) => url.split("?")[0];

/**
 * The storyboard as stored: each sheet from the API's track (its cues name presigned sheet URLs),
 * and the track written back with the sheets' own names, `sheet_000.jpg#xywh=…`.
 */
async function downloadStoryboard(
  client: ApiClient,
  jobId: string,
  out: string,
  files: DownloadedFile[],
  fetchTo: (url: string, path: string) => Promise<void>,
): Promise<void> {
  const track = await client.storyboard(jobId);
  if (!track) return;
  const local = new Map<string, string>();
  const lines = track.split("\n").map((line) => {
    const m = /^(https?:\/\/[^#\s]+)(#xywh=[\d,]+)$/.exec(line);
    if (!m) return line;
    const name = decodeURIComponent(new URL(m[1]!).pathname).split("/").at(-1)!;
    if (!/^sheet_\d+\.jpg$/.test(name)) throw new Error(`unexpected storyboard sheet "${name}"`);
    local.set(m[1]!, name);
    return `${name}${m[2]}`;
  });
  for (const [url, name] of local) await fetchTo(url, `storyboard/${name}`);
  await writeInside(out, "storyboard/storyboard.vtt", lines.join("\n"), files);
}
