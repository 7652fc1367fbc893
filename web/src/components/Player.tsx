import type HlsType from "hls.js";
import type { Level } from "hls.js";
import { createSignal, For, onCleanup, onMount, Show } from "solid-js";
import { api, apiBase, authHeader } from "../api.ts";

/**
 * The job's HLS ladder in a <video> through hls.js (MSE). Playlists come from the API and
 * carry the bearer token; segments are presigned storage URLs and must not (a second
 * Authorization would make storage refuse them).
 */
export function Player(props: { jobId: string; poster: string | null }) {
  let video!: HTMLVideoElement;
  let hls: HlsType | null = null;
  let disposed = false;
  const [levels, setLevels] = createSignal<Level[]>([]);
  const [choice, setChoice] = createSignal(-1);
  const [playing, setPlaying] = createSignal<string>("");
  const [error, setError] = createSignal<string | null>(null);

  onMount(async () => {
    // hls.js is most of the page's weight: load it only when there is something to play
    const { default: Hls } = await import("hls.js");
    if (disposed) return;
    if (!Hls.isSupported()) {
      setError("This browser cannot play HLS through Media Source Extensions; download an MP4 below.");
      return;
    }
    hls = new Hls({
      xhrSetup: (xhr, url) => {
        if (url.startsWith(apiBase + "/"))
          for (const [k, v] of Object.entries(authHeader())) xhr.setRequestHeader(k, v);
      },
    });
    hls.on(Hls.Events.MANIFEST_PARSED, (_e, data) => setLevels(data.levels));
    hls.on(Hls.Events.LEVEL_SWITCHED, (_e, data) => {
      const level = hls?.levels[data.level];
      setPlaying(level ? `${level.height}p · ${Math.round(level.bitrate / 1000)} kbit/s` : "");
    });
    hls.on(Hls.Events.ERROR, (_e, data) => {
      if (data.fatal)
        setError(`Playback failed: ${data.details}${data.response ? ` (HTTP ${data.response.code})` : ""}`);
    });
    hls.loadSource(api.hlsUrl(props.jobId));
    hls.attachMedia(video);
  });
  onCleanup(() => {
    disposed = true;
    hls?.destroy();
  });

  function pick(index: number) {
    setChoice(index);
    // -1 hands the choice back to hls.js's bandwidth estimate; a fixed rung switches now
    if (hls) hls.currentLevel = index;
  }

  return (
    <div class="player">
      <div class="video-box">
        <video
          ref={video}
          controls
          playsinline
          preload="metadata"
          poster={props.poster ?? undefined}
          data-testid="player"
        />
      </div>
      <div class="row player-controls">
        <label>
          Quality{" "}
          <select data-testid="quality" value={String(choice())} onChange={(e) => pick(Number(e.currentTarget.value))}>
            <option value="-1">Auto</option>
            <For each={levels()}>
              {(l, i) => <option value={String(i())}>{`${l.height}p (${Math.round(l.bitrate / 1000)} kbit/s)`}</option>}
            </For>
          </select>
        </label>
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
