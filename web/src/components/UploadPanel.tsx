import { createSignal, For, Show } from "solid-js";
import { DEFAULT_LADDER, RUNG_NAMES, type RungName } from "@videoforge/core/ladder";
import { DEFAULT_FORMATS, FORMATS, type Format } from "@videoforge/core/formats";

/** What each format makes, for the checkbox's title. */
const FORMAT_TITLES: Record<Format, string> = {
  h264: "H.264 + AAC in MP4: plays everywhere",
  hevc: "HEVC (x265, hvc1) + AAC in MP4: smaller; Safari and hardware decoders",
  vp9: "VP9 + Opus in WebM",
  av1: "AV1 (SVT-AV1) + AAC in MP4: smallest, slowest to encode",
  m4a: "audio only, AAC",
  mp3: "audio only, MP3",
};
import { bytes, percent } from "../format.ts";
import { jobPath, onNavClick } from "../router.ts";
import { CancelledError, MultipartUpload, savedProgress, type UploadState } from "../upload/multipart.ts";
import { allowedWithPackaging, bodyBytes, MAX_BODY_BYTES, type Packaging } from "../upload/options.ts";
import { createUploadOptions, UploadOptions } from "./UploadOptions.tsx";

/** Pick or drop a video, choose the ladder, formats and options, and send it straight to storage in parts. */
export function UploadPanel() {
  const [file, setFile] = createSignal<File | null>(null);
  const [ladder, setLadder] = createSignal<RungName[]>(DEFAULT_LADDER);
  const [formats, setFormats] = createSignal<Format[]>(DEFAULT_FORMATS);
  const [state, setState] = createSignal<UploadState>("idle");
  const [sent, setSent] = createSignal(0);
  const [error, setError] = createSignal<string | null>(null);
  const [jobId, setJobId] = createSignal<string | null>(null);
  const [dragging, setDragging] = createSignal(false);
  const [speed, setSpeed] = createSignal<number | null>(null);
  const options = createUploadOptions();
  let upload: MultipartUpload | null = null;
  let samples: { t: number; sent: number }[] = [];

  const busy = () => ["uploading", "paused", "completing"].includes(state());
  const total = () => file()?.size ?? 0;
  const resumable = () => {
    const f = file();
    return f && state() === "idle" ? savedProgress(f) : null;
  };

  function choose(f: File | null | undefined) {
    if (!f || busy()) return;
    setFile(f);
    setState("idle");
    setError(null);
    setJobId(null);
    setSent(savedProgress(f)?.sent ?? 0);
  }

  function toggleRung(rung: RungName, on: boolean) {
    setLadder((l) => RUNG_NAMES.filter((r) => (r === rung ? on : l.includes(r))));
  }

  function toggleFormat(format: Format, on: boolean) {
    setFormats((l) => FORMATS.filter((f) => (f === format ? on : l.includes(f))));
  }

  // MPEG-TS carries H.264 and HEVC only: the others are unchecked (and their boxes disabled) with TS
  function changePackaging(p: Packaging) {
    setFormats((l) => l.filter((f) => allowedWithPackaging(f, p)));
  }
  const blockedFormats = () => FORMATS.filter((f) => !allowedWithPackaging(f, options.packaging()));

  async function start() {
    const f = file();
    if (!f || busy()) return;
    if (ladder().length === 0) return setError("Choose at least one rendition.");
    // audio formats alone make an audio-only job; what does not go with it, the API says
    if (formats().length === 0) return setError("Choose at least one format.");
    const chosen = options.choices();
    if (!chosen.ok) return setError(chosen.message);
    const choices = { ladder: ladder(), formats: formats(), ...chosen.value };
    const size = bodyBytes({ name: f.name, size: f.size, contentType: f.type, ...choices });
    if (size > MAX_BODY_BYTES)
      return setError(
        `The captions and the watermark come to ${bytes(size)}; one upload can carry ${bytes(MAX_BODY_BYTES)}.`,
      );
    setError(null);
    samples = [];
    upload = new MultipartUpload(f, choices, {
      onProgress: (s) => {
        setSent(s);
        const now = performance.now();
        samples.push({ t: now, sent: s });
        while (samples.length > 2 && now - samples[0]!.t > 3000) samples.shift();
        const first = samples[0]!;
        setSpeed(now - first.t > 500 ? ((s - first.sent) * 1000) / (now - first.t) : null);
      },
      onState: (s, detail) => {
        setState(s);
        // the API's own words, e.g. a 400's message about a captions file's line
        if (s === "error") setError(`Upload failed: ${detail ?? "unknown error"}`);
      },
    });
    try {
      setJobId(await upload.run());
    } catch (err) {
      if (!(err instanceof CancelledError)) setError(`Upload failed: ${(err as Error).message}`);
    }
  }

  const label = () =>
    ({
      idle: "",
      uploading: "Uploading…",
      paused: "Paused",
      completing: "Finishing the upload…",
      done: "Uploaded",
      error: "Stopped",
      cancelled: "Cancelled",
    })[state()];

  return (
    <section class="panel upload" aria-labelledby="upload-title">
      <h1 id="upload-title">Upload a video</h1>
      <div
        class="drop"
        classList={{ dragging: dragging() }}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(e) => {
          e.preventDefault();
          setDragging(false);
          choose(e.dataTransfer?.files[0]);
        }}
      >
        <label class="pick">
          <input
            type="file"
            accept="video/*,.mkv,.mov,.mp4,.webm,.ts,.m2ts,.mxf"
            data-testid="file-input"
            disabled={busy()}
            onChange={(e) => choose(e.currentTarget.files?.[0])}
          />
          <span>Drop a video here or choose a file</span>
        </label>
        <p class="file-line" aria-live="polite">
          <Show when={file()} fallback={<span class="muted">No file chosen</span>}>
            {(f) => (
              <>
                <strong>{f().name}</strong> <span class="muted">{bytes(f().size)}</span>
              </>
            )}
          </Show>
        </p>
      </div>

      <Chips
        legend="Renditions"
        name="rung"
        items={RUNG_NAMES}
        chosen={ladder()}
        disabled={busy()}
        onToggle={toggleRung}
      />
      <Chips
        legend="Formats"
        name="format"
        items={FORMATS}
        chosen={formats()}
        titles={FORMAT_TITLES}
        blocked={blockedFormats()}
        disabled={busy()}
        onToggle={toggleFormat}
      />
      <Show when={blockedFormats().length}>
        <p class="muted small" data-testid="packaging-note">
          MPEG-TS segments carry H.264 and HEVC only, so {blockedFormats().join(" and ")} are off; a TS job has an HLS
          stream and no DASH manifest.
        </p>
      </Show>
      <UploadOptions state={options} disabled={busy()} onPackaging={changePackaging} />

      <div class="row actions">
        <Show when={!busy()}>
          <button type="button" class="primary" disabled={!file() || state() === "done"} onClick={start}>
            {resumable() ? "Resume upload" : "Start upload"}
          </button>
        </Show>
        <Show when={state() === "uploading"}>
          <button type="button" onClick={() => upload?.pause()}>
            Pause
          </button>
        </Show>
        <Show when={state() === "paused"}>
          <button type="button" class="primary" onClick={() => upload?.resume()}>
            Resume
          </button>
        </Show>
        <Show when={busy()}>
          <button type="button" class="danger" onClick={() => void upload?.cancel()}>
            Cancel
          </button>
        </Show>
        <Show when={resumable()}>
          {(r) => (
            <span class="muted">{bytes(r().sent)} were already sent; the upload continues where it stopped.</span>
          )}
        </Show>
      </div>

      <div class="progress-line" data-state={state()}>
        <progress
          max={Math.max(total(), 1)}
          value={sent()}
          aria-label="Upload progress"
          data-testid="upload-progress"
        />
        <span class="num">{total() ? percent(sent() / total()) : "0%"}</span>
        <span class="num wide">
          {bytes(sent())} / {bytes(total())}
          {speed() !== null && state() === "uploading" ? ` · ${bytes(speed()!)}/s` : ""}
        </span>
        <span class="status-text" data-testid="upload-status">
          {label()}
        </span>
      </div>
      <Show when={jobId()}>
        {(id) => (
          <p class="ok">
            Uploaded. Follow it in the list or open{" "}
            <a href={jobPath(id())} onClick={onNavClick}>
              job {id()}
            </a>
            .
          </p>
        )}
      </Show>
      <Show when={error()}>
        <p class="error" role="alert">
          {error()}
        </p>
      </Show>
    </section>
  );
}

/** A row of checkbox chips: the rungs, the formats. */
function Chips<T extends string>(props: {
  legend: string;
  name: string;
  items: readonly T[];
  chosen: readonly T[];
  titles?: Record<T, string>;
  /** Items that cannot be chosen now (shown, unchecked and disabled). */
  blocked?: readonly T[];
  disabled: boolean;
  onToggle: (item: T, on: boolean) => void;
}) {
  return (
    <fieldset class="ladder" disabled={props.disabled}>
      <legend>{props.legend}</legend>
      <For each={props.items}>
        {(item) => (
          <label class="chip" title={props.titles?.[item]}>
            <input
              type="checkbox"
              name={props.name}
              value={item}
              checked={props.chosen.includes(item)}
              disabled={props.blocked?.includes(item)}
              onChange={(e) => props.onToggle(item, e.currentTarget.checked)}
            />
            {item}
          </label>
        )}
      </For>
    </fieldset>
  );
}
