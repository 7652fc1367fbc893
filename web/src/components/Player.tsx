import { createEffect, createSignal, For, onCleanup, onMount, Show } from "solid-js";
import { api } from "../api.ts";
import { startDash, startHls, type Engine, type Variant } from "../player/engines.ts";
import { parseStoryboard, tileAt, type StoryboardTile } from "../storyboard.ts";

type Protocol = "hls" | "dash";

/** A captions track to offer: its language and the presigned URL of its WebVTT file. */
export interface CaptionsLink {
  language: string;
  url: string;
}

/**
 * What plays: a job's stream through the owner's API, or a shared video's HLS master (the link is its credential,
 * and the link opens neither the job's DASH manifest nor its storyboard).
 */
export type PlayerSource = { jobId: string; packaging: "cmaf" | "ts" } | { hls: string };

/**
 * The job's stream in a <video> through Media Source Extensions: the HLS master (hls.js) or the
 * DASH manifest (dash.js), both over the same CMAF segments. Manifests come from the API and
 * carry the bearer token; segments are presigned storage URLs and must not. A job packaged as
 * MPEG-TS has no DASH manifest.
 *
 * Captions are <track> elements on the video with the WebVTT files' presigned URLs, whichever
 * engine plays (the engines leave the manifests' own captions alone): the browser loads and
 * renders them, a language chosen stays on across a switch of engine, and its own captions
 * menu and ours show the same tracks. Storage is another origin, hence `crossorigin`.
 *
 * A share link's page plays one HLS master by its URL instead (`hls`): no DASH, no storyboard, no token.
 */
export function Player(props: PlayerSource & { poster: string | null; captions: CaptionsLink[] }) {
  let video!: HTMLVideoElement;
  let engine: Engine | null = null;
  let disposed = false;
  let generation = 0;
  const [protocol, setProtocol] = createSignal<Protocol>("hls");
  const [variants, setVariants] = createSignal<Variant[]>([]);
  const [choice, setChoice] = createSignal(-1);
  const [playing, setPlaying] = createSignal<string>("");
  const [error, setError] = createSignal<string | null>(null);
  const [tiles, setTiles] = createSignal<StoryboardTile[]>([]);
  const [duration, setDuration] = createSignal(0);
  const [position, setPosition] = createSignal(0);
  const [hover, setHover] = createSignal<{ at: number; left: number } | null>(null);
  const [caption, setCaption] = createSignal<string | null>(null);
  // keyed by language, so renewed URLs change a track's src instead of making a new (unchosen) track
  const languages = () => props.captions.map((c) => c.language);
  const captionUrl = (language: string) => props.captions.find((c) => c.language === language)?.url;

  createEffect(() => {
    const chosen = caption();
    languages(); // and again when tracks come or go
    for (const track of Array.from(video.textTracks)) track.mode = track.language === chosen ? "showing" : "disabled";
  });
  // the browser's own captions menu changes the modes directly: the select follows it
  const followNative = () =>
    setCaption(Array.from(video.textTracks).find((t) => t.mode === "showing")?.language ?? null);

  onMount(() => {
    // seek previews are an extra: a job without a storyboard (or a failed fetch) just has none
    if (!("jobId" in props)) return;
    api
      .storyboard(props.jobId)
      .then((vtt) => vtt && setTiles(parseStoryboard(vtt)))
      .catch(() => undefined);
  });

  function hovered(e: MouseEvent & { currentTarget: HTMLInputElement }) {
    const box = e.currentTarget.getBoundingClientRect();
    const fraction = Math.min(1, Math.max(0, (e.clientX - box.left) / box.width));
    setHover({ at: fraction * duration(), left: e.clientX - box.left });
  }

  /** Start the chosen engine on the video; a later switch makes an earlier, slower start a no-op. */
  async function play(p: Protocol) {
    const mine = ++generation;
    engine?.destroy();
    engine = null;
    setVariants([]);
    setChoice(-1);
    setPlaying("");
    setError(null);
    const start = p === "hls" ? startHls : startDash;
    const manifest = !("jobId" in props) ? props.hls : p === "hls" ? api.hlsUrl(props.jobId) : api.dashUrl(props.jobId);
    const started = await start(video, manifest, {
      variants: (list) => mine === generation && setVariants(list),
      playing: (v) =>
        mine === generation && setPlaying(`${v.height}p ${v.codec} · ${Math.round(v.bitrate / 1000)} kbit/s`),
      error: (message) => mine === generation && setError(message),
    });
    if (disposed || mine !== generation) return started?.destroy();
    engine = started;
  }

  onMount(() => {
    video.textTracks.addEventListener("change", followNative);
    void play(protocol());
  });
  onCleanup(() => {
    disposed = true;
    video.textTracks.removeEventListener("change", followNative);
    engine?.destroy();
  });

  function choose(p: Protocol) {
    setProtocol(p);
    void play(p);
  }

  function pick(index: number) {
    setChoice(index);
    // -1 hands the choice back to the engine's bandwidth estimate; a fixed variant switches now
    engine?.pick(index);
  }

  return (
    <div class="player">
      <div class="video-box">
        <video
          ref={video}
          controls
          playsinline
          preload="metadata"
          crossorigin="anonymous"
          poster={props.poster ?? undefined}
          data-testid="player"
          onLoadedMetadata={() => setDuration(video.duration)}
          onTimeUpdate={() => setPosition(video.currentTime)}
        >
          <For each={languages()}>
            {(language) => <track kind="subtitles" srclang={language} label={language} src={captionUrl(language)} />}
          </For>
        </video>
      </div>
      <Show when={tiles().length > 0 && duration() > 0}>
        <div class="seek-wrap">
          <input
            type="range"
            class="seek"
            data-testid="seek"
            aria-label="Seek"
            min="0"
            max={duration()}
            step="0.01"
            value={position()}
            onInput={(e) => (video.currentTime = Number(e.currentTarget.value))}
            onMouseMove={hovered}
            onMouseLeave={() => setHover(null)}
          />
          <Show when={hover() && tileAt(tiles(), hover()!.at)}>
            {(tile) => (
              <div
                class="seek-preview"
                data-testid="seek-preview"
                data-at={hover()!.at.toFixed(2)}
                style={{
                  left: `${Math.max(0, hover()!.left - tile().w / 2)}px`,
                  width: `${tile().w}px`,
                  height: `${tile().h}px`,
                  "background-image": `url("${tile().url}")`,
                  "background-position": `-${tile().x}px -${tile().y}px`,
                }}
              >
                <span class="num">{hover()!.at.toFixed(1)} s</span>
              </div>
            )}
          </Show>
        </div>
      </Show>
      <div class="row player-controls">
        <label>
          Stream{" "}
          <select data-testid="protocol" value={protocol()} onChange={(e) => choose(e.currentTarget.value as Protocol)}>
            <option value="hls">HLS</option>
            <Show when={"jobId" in props && props.packaging !== "ts"}>
              <option value="dash">DASH</option>
            </Show>
          </select>
        </label>
        <label>
          Quality{" "}
          <select data-testid="quality" value={String(choice())} onChange={(e) => pick(Number(e.currentTarget.value))}>
            <option value="-1">Auto</option>
            <For each={variants()}>
              {(v) => (
                <option
                  value={String(v.index)}
                >{`${v.height}p ${v.codec} (${Math.round(v.bitrate / 1000)} kbit/s)`}</option>
              )}
            </For>
          </select>
        </label>
        <Show when={languages().length}>
          <label>
            Captions{" "}
            <select
              data-testid="captions"
              value={caption() ?? ""}
              onChange={(e) => setCaption(e.currentTarget.value || null)}
            >
              <option value="">Off</option>
              <For each={languages()}>{(l) => <option value={l}>{l}</option>}</For>
            </select>
          </label>
        </Show>
        <span class="muted small num" data-testid="playing-level">
          {playing() ? `playing ${playing()}` : "\u00a0"}
        </span>
      </div>
      <Show when={error()}>
        <p class="error" role="alert">
          {error()}
        </p>
      </Show>
    </div>
  );
}
