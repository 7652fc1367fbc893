import { apiBase, authHeader } from "../api.ts";

/** One variant a person can pick: the engine's own index, and how it is shown. */
export interface Variant {
  index: number;
  height: number;
  codec: string;
  bitrate: number;
}

/** What the page needs from a streaming engine (hls.js or dash.js), whichever plays. */
export interface Engine {
  /** Pin a variant (its `index`), or -1 to hand the choice back to the engine's bandwidth estimate. */
  pick(index: number): void;
  destroy(): void;
}

export interface EngineEvents {
  variants(list: Variant[]): void;
  playing(v: Variant): void;
  error(message: string): void;
}

/** A variant's codec as people say it: one job may stream the same rung in several formats. */
export function codecFamily(codecs: string | null | undefined): string {
  const prefix = codecs?.slice(0, 4) ?? "";
  return { avc1: "H.264", hvc1: "HEVC", hev1: "HEVC", vp09: "VP9", av01: "AV1" }[prefix] ?? "";
}

/**
 * Requests to the API carry the bearer token; presigned storage URLs must not (storage would refuse them), nor
 * a shared link's playlists (the link is their credential: an owner's token has no business travelling with it).
 */
const needsToken = (url: string) => url.startsWith(apiBase + "/") && !url.startsWith(apiBase + "/shared/");

/** The HLS master at `url` through hls.js (MSE); loaded only when something plays (it is most of the page's weight). */
export async function startHls(video: HTMLVideoElement, url: string, on: EngineEvents): Promise<Engine | null> {
  const { default: Hls } = await import("hls.js");
  if (!Hls.isSupported()) {
    on.error("This browser cannot play HLS through Media Source Extensions; download a file below.");
    return null;
  }
  const hls = new Hls({
    // captions are the page's own <track> elements (Player.tsx), the same for both engines
    enableWebVTT: false,
    xhrSetup: (xhr, requested) => {
      if (needsToken(requested)) for (const [k, v] of Object.entries(authHeader())) xhr.setRequestHeader(k, v);
    },
  });
  const variant = (i: number): Variant | null => {
    const l = hls.levels[i];
    return l ? { index: i, height: l.height, codec: codecFamily(l.videoCodec), bitrate: l.bitrate } : null;
  };
  hls.on(Hls.Events.MANIFEST_PARSED, (_e, data) =>
    on.variants(data.levels.map((_, i) => variant(i)).filter((v): v is Variant => v !== null)),
  );
  hls.on(Hls.Events.LEVEL_SWITCHED, (_e, data) => {
    const v = variant(data.level);
    if (v) on.playing(v);
  });
  hls.on(Hls.Events.ERROR, (_e, data) => {
    if (data.fatal) on.error(`Playback failed: ${data.details}${data.response ? ` (HTTP ${data.response.code})` : ""}`);
  });
  hls.loadSource(url);
  hls.attachMedia(video);
  return {
    pick: (index) => void (hls.currentLevel = index),
    destroy: () => hls.destroy(),
  };
}

/**
 * The DASH manifest at `url` through dash.js. It picks one video adaptation set (one codec family) the
 * browser decodes; the variants are that set's representations. Its text sets are left out:
 * captions are the page's own <track> elements, as with hls.js (dash.js adds the cues of a
 * single WebVTT file only to a track already chosen when the file arrives, so a track turned
 * on later stays empty).
 */
export async function startDash(video: HTMLVideoElement, url: string, on: EngineEvents): Promise<Engine | null> {
  const { MediaPlayer } = await import("dashjs");
  const player = MediaPlayer().create();
  player.addRequestInterceptor(async (request) => {
    if (needsToken(request.url)) request.headers = { ...request.headers, ...authHeader() };
    return request;
  });
  const variants = () =>
    player.getRepresentationsByType("video").map((r, i) => ({
      index: i,
      height: r.height,
      codec: codecFamily(r.codecs),
      bitrate: r.bandwidth,
    }));
  player.registerCustomCapabilitiesFilter((r) => !(r.mimeType ?? "").startsWith("text/"));
  // should a text set get through anyway, it stays off rather than doubling the page's captions
  player.updateSettings({ streaming: { text: { defaultEnabled: false } } });
  player.on("streamInitialized", () => on.variants(variants()));
  player.on("qualityChangeRendered", (e) => {
    if ((e as { mediaType?: string }).mediaType !== "video") return;
    const current = player.getCurrentRepresentationForType("video");
    const v = variants().find((x) => x.height === current?.height && x.bitrate === current?.bandwidth);
    if (v) on.playing(v);
  });
  player.on("error", (e) => on.error(`Playback failed: ${JSON.stringify((e as { error?: unknown }).error ?? e)}`));
  player.initialize(video, url, false);
  return {
    pick: (index) => {
      const auto = index < 0;
      player.updateSettings({ streaming: { abr: { autoSwitchBitrate: { video: auto } } } });
      if (!auto) player.setRepresentationForTypeByIndex("video", index, true);
    },
    destroy: () => player.destroy(),
  };
}
