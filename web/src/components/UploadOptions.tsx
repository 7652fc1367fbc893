import { createSignal, For, Show, type JSX } from "solid-js";
import { createStore } from "solid-js/store";
import { bytes } from "../format.ts";
import {
  captionsFormat,
  captionsProblem,
  languageFromName,
  MAX_CAPTIONS,
  MAX_WATERMARK_BYTES,
  parseBounded,
  parseLoudness,
  parseTargetSsim,
  parseTime,
  parseTrim,
  readBase64,
  WATERMARK_POSITIONS,
  type Checked,
  type Packaging,
  type PickedCaptions,
  type UploadChoices,
  type WatermarkPosition,
} from "../upload/options.ts";

/** The per-job choices besides ladder and formats; `packaging` also decides which formats can be chosen. */
export type OptionChoices = Omit<UploadChoices, "ladder" | "formats">;

/** The first field's message, for the line under the Start button. */
const fail = (checks: readonly Checked<unknown>[]): { ok: false; message: string } => ({
  ok: false,
  message: `Check the options: ${checks.flatMap((c) => (c.ok ? [] : [c.message]))[0]}`,
});

/** The options' state, made by the upload panel so it can read the choices when the upload starts. */
export function createUploadOptions() {
  const [trimStart, setTrimStart] = createSignal("");
  const [trimEnd, setTrimEnd] = createSignal("");
  const [packaging, setPackaging] = createSignal<Packaging>("cmaf");
  const [loudness, setLoudness] = createSignal("");
  const [targetSsim, setTargetSsim] = createSignal("");
  const [posterAt, setPosterAt] = createSignal("");
  // a store: typing a language updates that row in place, so its input keeps the focus
  const [captions, setCaptions] = createStore<PickedCaptions[]>([]);
  const [captionsNote, setCaptionsNote] = createSignal<string | null>(null);
  const [mark, setMark] = createSignal<{ name: string; size: number; image: string } | null>(null);
  const [markNote, setMarkNote] = createSignal<string | null>(null);
  const [position, setPosition] = createSignal<WatermarkPosition>("bottom-right");
  const [opacity, setOpacity] = createSignal("0.8");
  const [widthPercent, setWidthPercent] = createSignal("15");
  const [reading, setReading] = createSignal(0);

  const trim = () => parseTrim(trimStart(), trimEnd());
  const startCheck = () => parseTime(trimStart(), "Trim start");
  // the end's own syntax first; the range's order only once the start is readable
  const endProblem = () => {
    const end = parseTime(trimEnd(), "Trim end");
    if (!end.ok) return end.message;
    const t = trim();
    return startCheck().ok && !t.ok ? t.message : null;
  };
  const loud = () => parseLoudness(loudness());
  const quality = () => parseTargetSsim(targetSsim());
  const poster = () => parseTime(posterAt(), "Poster at");
  const markOpacity = () => parseBounded(opacity(), "Opacity", 0, 1);
  const markWidth = () => parseBounded(widthPercent(), "Width", 2, 100);

  async function addCaptions(files: readonly File[]) {
    const room = MAX_CAPTIONS - captions.length;
    setCaptionsNote(files.length > room ? `At most ${MAX_CAPTIONS} captions files per job.` : null);
    setReading((n) => n + 1);
    try {
      const picked = await Promise.all(
        files.slice(0, Math.max(0, room)).map(async (f) => ({
          name: f.name,
          format: captionsFormat(f.name),
          text: await f.text(),
          language: languageFromName(f.name),
        })),
      );
      setCaptions((list) => [...list, ...picked]);
    } catch (err) {
      setCaptionsNote(`A captions file could not be read: ${(err as Error).message}`);
    } finally {
      setReading((n) => n - 1);
    }
  }

  function dropMark() {
    setMark(null);
    setMarkNote(null);
  }

  async function chooseMark(file: File | undefined) {
    setMark(null);
    setMarkNote(null);
    if (!file) return;
    if (!/^image\/(png|jpeg)$/.test(file.type) && !/\.(png|jpe?g)$/i.test(file.name))
      return setMarkNote(`${file.name} is not a PNG or JPEG image.`);
    if (file.size > MAX_WATERMARK_BYTES)
      return setMarkNote(
        `${file.name} is ${bytes(file.size)}; a watermark may be at most ${bytes(MAX_WATERMARK_BYTES)}.`,
      );
    setReading((n) => n + 1);
    try {
      setMark({ name: file.name, size: file.size, image: await readBase64(file) });
    } catch (err) {
      setMarkNote(`${file.name} could not be read: ${(err as Error).message}`);
    } finally {
      setReading((n) => n - 1);
    }
  }

  /** What the form holds as the contract names it, or why it cannot be sent yet. */
  function choices(): Checked<OptionChoices> {
    if (reading() > 0) return { ok: false, message: "Still reading the attached files; try again in a moment." };
    const t = trim();
    const l = loud();
    const p = poster();
    const q = quality();
    if (!t.ok || !l.ok || !p.ok || !q.ok) return fail([t, l, p, q]);
    const list = captions;
    const problem =
      list.map((_, i) => captionsProblem(list, i)).find((m) => m !== null) ??
      markNote() ??
      (mark() && !markOpacity().ok ? "check the watermark's opacity." : null) ??
      (mark() && !markWidth().ok ? "check the watermark's width." : null);
    if (problem) return { ok: false, message: `Check the options: ${problem}` };
    const m = mark();
    const o = markOpacity();
    const w = markWidth();
    return {
      ok: true,
      value: {
        ...(t.value ? { trim: t.value } : {}),
        ...(packaging() !== "cmaf" ? { packaging: packaging() } : {}),
        ...(l.value !== null ? { loudness: l.value } : {}),
        ...(q.value !== null ? { targetSsim: q.value } : {}),
        ...(p.value !== null ? { posterAt: p.value } : {}),
        ...(list.length
          ? { captions: list.map((c) => ({ language: c.language.trim(), format: c.format!, text: c.text })) }
          : {}),
        ...(m && o.ok && w.ok
          ? { watermark: { image: m.image, position: position(), opacity: o.value, width: w.value / 100 } }
          : {}),
      },
    };
  }

  /** How many options differ from the defaults, for the section's summary line. */
  const setCount = () =>
    [
      trimStart().trim() || trimEnd().trim(),
      packaging() !== "cmaf",
      loudness().trim(),
      targetSsim().trim(),
      posterAt().trim(),
      captions.length,
      mark(),
    ].filter(Boolean).length;

  return {
    fields: {
      trimStart,
      setTrimStart,
      trimEnd,
      setTrimEnd,
      loudness,
      setLoudness,
      targetSsim,
      setTargetSsim,
      posterAt,
      setPosterAt,
    },
    checks: { startCheck, endProblem, loud, quality, poster, markOpacity, markWidth },
    packaging,
    setPackaging,
    captions,
    setCaptions,
    captionsNote,
    addCaptions,
    mark,
    markNote,
    chooseMark,
    dropMark,
    position,
    setPosition,
    opacity,
    setOpacity,
    widthPercent,
    setWidthPercent,
    choices,
    setCount,
  };
}

export type UploadOptionsState = ReturnType<typeof createUploadOptions>;

/** The "Options" section of the upload form: trim, packaging, loudness, target SSIM, poster, captions, watermark. */
export function UploadOptions(props: {
  state: UploadOptionsState;
  disabled: boolean;
  onPackaging: (p: Packaging) => void;
}) {
  const s = props.state;
  const f = s.fields;
  let markInput!: HTMLInputElement;
  const problem = <T,>(c: Checked<T>) => (c.ok ? null : c.message);

  return (
    <details class="options">
      <summary>
        Options{" "}
        <span class="muted small">{s.setCount() ? `(${s.setCount()} set)` : "(trim, captions, watermark…)"}</span>
      </summary>
      <fieldset class="option-grid" disabled={props.disabled}>
        <legend class="sr-only">Options</legend>
        <Field
          id="opt-trim-start"
          label="Trim start"
          hint="seconds, m:ss or h:mm:ss"
          problem={problem(s.checks.startCheck())}
        >
          <TextInput id="opt-trim-start" value={f.trimStart()} onInput={f.setTrimStart} placeholder="0:00" />
        </Field>
        <Field id="opt-trim-end" label="Trim end" hint="empty: to the end" problem={s.checks.endProblem()}>
          <TextInput id="opt-trim-end" value={f.trimEnd()} onInput={f.setTrimEnd} placeholder="m:ss or seconds" />
        </Field>
        <Field id="opt-packaging" label="Packaging" problem={null}>
          <select
            id="opt-packaging"
            value={s.packaging()}
            onChange={(e) => {
              const p = e.currentTarget.value as Packaging;
              s.setPackaging(p);
              props.onPackaging(p);
            }}
          >
            <option value="cmaf">CMAF (HLS and DASH)</option>
            <option value="ts">MPEG-TS (HLS for older players)</option>
          </select>
        </Field>
        <Field id="opt-loudness" label="Loudness (LUFS)" hint="empty: as recorded" problem={problem(s.checks.loud())}>
          <NumberInput
            id="opt-loudness"
            bounds={["-70", "-5", "0.1"]}
            placeholder="-23"
            value={f.loudness()}
            onInput={f.setLoudness}
          />
        </Field>
        <Field
          id="opt-target-ssim"
          label="Target SSIM"
          hint="empty: one CRF; each chunk's CRF searched (3–4× the work)"
          problem={problem(s.checks.quality())}
        >
          <NumberInput
            id="opt-target-ssim"
            bounds={["0.8", "0.995", "0.005"]}
            placeholder="0.97"
            value={f.targetSsim()}
            onInput={f.setTargetSsim}
          />
        </Field>
        <Field id="opt-poster" label="Poster at" hint="empty: a tenth in" problem={problem(s.checks.poster())}>
          <TextInput id="opt-poster" value={f.posterAt()} onInput={f.setPosterAt} placeholder="seconds or m:ss" />
        </Field>

        <div class="option-wide">
          <label for="opt-captions">Captions files</label>{" "}
          <span class="muted small">.srt or .vtt, up to {MAX_CAPTIONS}</span>
          <input
            id="opt-captions"
            type="file"
            accept=".srt,.vtt"
            multiple
            onChange={(e) => {
              const input = e.currentTarget;
              void s.addCaptions([...(input.files ?? [])]);
              input.value = ""; // the same file can be picked again after a removal
            }}
          />
          <Show when={s.captionsNote()}>
            <p class="field-error">{s.captionsNote()}</p>
          </Show>
          <ul class="attached" data-testid="captions-files">
            <For each={s.captions}>
              {(c, i) => {
                const id = () => `opt-captions-${i()}`;
                const message = () => captionsProblem(s.captions, i());
                return (
                  <li>
                    <span class="grow">
                      {c.name} <span class="muted small">{bytes(new Blob([c.text]).size)}</span>
                    </span>
                    <label for={id()}>Language of {c.name}</label>
                    <input
                      id={id()}
                      type="text"
                      class="lang"
                      placeholder="en"
                      value={c.language}
                      aria-invalid={message() ? "true" : undefined}
                      aria-describedby={`${id()}-problem`}
                      onInput={(e) => s.setCaptions(i(), "language", e.currentTarget.value)}
                    />
                    <button
                      type="button"
                      aria-label={`Remove ${c.name}`}
                      onClick={() => s.setCaptions((list) => list.filter((_, j) => j !== i()))}
                    >
                      Remove
                    </button>
                    <Show when={message()}>
                      <p class="field-error" id={`${id()}-problem`}>
                        {message()}
                      </p>
                    </Show>
                  </li>
                );
              }}
            </For>
          </ul>
        </div>

        <div class="option-wide">
          <label for="opt-watermark">Watermark image</label>{" "}
          <span class="muted small">PNG or JPEG, at most {bytes(MAX_WATERMARK_BYTES)}</span>
          <input
            ref={markInput}
            id="opt-watermark"
            type="file"
            accept="image/png,image/jpeg"
            onChange={(e) => void s.chooseMark(e.currentTarget.files?.[0])}
          />
          <Show when={s.markNote()}>
            <p class="field-error" id="opt-watermark-problem">
              {s.markNote()}
            </p>
          </Show>
          <Show when={s.mark()}>
            <div class="row">
              <button
                type="button"
                onClick={() => {
                  s.dropMark();
                  markInput.value = "";
                }}
              >
                Remove watermark
              </button>
              <Field id="opt-watermark-position" label="Watermark position" problem={null}>
                <select
                  id="opt-watermark-position"
                  value={s.position()}
                  onChange={(e) => s.setPosition(e.currentTarget.value as WatermarkPosition)}
                >
                  <For each={WATERMARK_POSITIONS}>{(p) => <option value={p}>{p}</option>}</For>
                </select>
              </Field>
              <Field id="opt-watermark-opacity" label="Watermark opacity" problem={problem(s.checks.markOpacity())}>
                <input
                  id="opt-watermark-opacity"
                  type="number"
                  aria-describedby="opt-watermark-opacity-problem"
                  min="0"
                  max="1"
                  step="0.05"
                  value={s.opacity()}
                  onInput={(e) => s.setOpacity(e.currentTarget.value)}
                />
              </Field>
              <Field id="opt-watermark-width" label="Watermark width (%)" problem={problem(s.checks.markWidth())}>
                <input
                  id="opt-watermark-width"
                  type="number"
                  aria-describedby="opt-watermark-width-problem"
                  min="2"
                  max="100"
                  step="1"
                  value={s.widthPercent()}
                  onInput={(e) => s.setWidthPercent(e.currentTarget.value)}
                />
              </Field>
            </div>
          </Show>
        </div>
      </fieldset>
    </details>
  );
}

/** A labelled field with its hint and, when its value is wrong, the reason next to it. */
function Field(props: { id: string; label: string; hint?: string; problem: string | null; children: JSX.Element }) {
  return (
    <div class="field" classList={{ invalid: props.problem !== null }}>
      <label for={props.id}>{props.label}</label>
      {props.children}
      <Show when={props.hint && !props.problem}>
        <span class="muted small">{props.hint}</span>
      </Show>
      <Show when={props.problem}>
        <span class="field-error" id={`${props.id}-problem`}>
          {props.problem}
        </span>
      </Show>
    </div>
  );
}

/** A number field; `bounds` are its min, max and step. */
function NumberInput(props: {
  id: string;
  bounds: [string, string, string];
  value: string;
  onInput: (v: string) => void;
  placeholder: string;
}) {
  return (
    <input
      id={props.id}
      type="number"
      aria-describedby={`${props.id}-problem`}
      min={props.bounds[0]}
      max={props.bounds[1]}
      step={props.bounds[2]}
      placeholder={props.placeholder}
      value={props.value}
      onInput={(e) => props.onInput(e.currentTarget.value)}
    />
  );
}

function TextInput(props: { id: string; value: string; onInput: (v: string) => void; placeholder: string }) {
  return (
    <input
      id={props.id}
      type="text"
      inputmode="decimal"
      autocomplete="off"
      placeholder={props.placeholder}
      aria-describedby={`${props.id}-problem`}
      value={props.value}
      onInput={(e) => props.onInput(e.currentTarget.value)}
    />
  );
}
