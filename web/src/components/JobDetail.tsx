import { createSignal, For, onCleanup, Show } from "solid-js";
import { createStore, reconcile } from "solid-js/store";
import { api, client, FINAL_STATUSES, idParam, poll, type ChunkRow, type JobSummary, type JobView } from "../api.ts";
import { age, bytes, clock, seconds } from "../format.ts";
import { jobPath, navigate, onNavClick, watchPath } from "../router.ts";
import { formatTime } from "../timecode.ts";
import { StatusBadge } from "./StatusBadge.tsx";
import { Gantt } from "./Gantt.tsx";
import { QualityChart } from "./QualityChart.tsx";
import { Timeline } from "./Timeline.tsx";
import { Player } from "./Player.tsx";
import { Result } from "./Result.tsx";

/** One job: state, actions, stage durations, failures, the Gantt chart, the timeline and the result. */
export function JobDetail(props: { jobId: string }) {
  const [view, setView] = createStore<{ data: JobView | null }>({ data: null });
  const [error, setError] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);
  const [now, setNow] = createSignal(Date.now());
  // polls until the job has ended, then stops: an ended job no longer changes
  const stop = poll(
    (options) => client.jobs[":id"].$get({ param: idParam(props.jobId), query: {} }, options),
    1000,
    (data) => {
      setView("data", reconcile(data, { key: "eventId", merge: true }));
      setError(null);
    },
    (err) => setError(err.message),
    (data) => !FINAL_STATUSES.includes(data.job.status),
  );
  const tick = setInterval(() => setNow(Date.now()), 1000);
  onCleanup(() => {
    stop();
    clearInterval(tick);
  });

  async function act(what: () => Promise<unknown>) {
    setBusy(true);
    setError(null);
    try {
      await what();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  const job = () => view.data?.job;
  const failedChunks = () => (view.data?.chunks ?? []).filter((c) => c.status === "FAILED" || (c.attempts ?? 0) > 1);
  const failureReason = (c: ChunkRow) => c.error ?? (c.status === "ENCODED" ? "encoded after a retry" : "—");

  return (
    <>
      <p class="crumbs">
        <a href="/" onClick={onNavClick}>
          ← All jobs
        </a>
      </p>
      <Show when={error()}>
        <p class="error" role="alert" data-testid="detail-error">
          {error()}
        </p>
      </Show>
      <Show when={job()} fallback={<p class="muted">Loading job {props.jobId}…</p>}>
        {(j) => (
          <>
            <section class="panel" aria-labelledby="job-title">
              <div class="job-head">
                <h1 id="job-title" class="grow">
                  {j().name}
                </h1>
                {/* a completed job is a video: its page in the library (here, where it shifts nothing below) */}
                <Show when={j().status === "COMPLETED"}>
                  <a href={watchPath(j().jobId)} onClick={onNavClick} data-testid="watch-link">
                    Watch page
                  </a>
                </Show>
                <Show when={previewing(j())}>
                  <span class="badge s-playable" data-testid="playable">
                    PLAYABLE
                  </span>
                </Show>
                <StatusBadge status={j().status} />
              </div>
              <dl class="facts">
                <div>
                  <dt>Job</dt>
                  <dd class="mono">{j().jobId}</dd>
                </div>
                <div>
                  <dt>Created</dt>
                  <dd>{age(j().createdAt, now())}</dd>
                </div>
                <div>
                  <dt>Source</dt>
                  <dd>
                    {j().source
                      ? `${j().source!.width}×${j().source!.height} · ${clock(j().source!.duration)} · ` +
                        `${j().source!.fps.toFixed(2)} fps · ${j().source!.frames} frames`
                      : "not probed yet"}
                  </dd>
                </div>
                <div>
                  <dt>Size</dt>
                  <dd>{bytes(j().size)}</dd>
                </div>
                <div>
                  <dt>Ladder</dt>
                  <dd>{j().ladder.join(", ")}</dd>
                </div>
                <div>
                  <dt>Formats</dt>
                  <dd data-testid="formats">{j().formats.join(", ")}</dd>
                </div>
                <div>
                  <dt>Trim</dt>
                  <dd data-testid="trim">{trimText(j().trim)}</dd>
                </div>
                <div>
                  <dt>Packaging</dt>
                  <dd data-testid="packaging">
                    {j().packaging === "ts" ? "MPEG-TS (HLS only)" : "CMAF (HLS and DASH)"}
                  </dd>
                </div>
                <div>
                  <dt>Chunks</dt>
                  <dd data-testid="chunk-count">
                    {j().chunkCount === null ? "—" : `${j().chunksEncoded} of ${j().chunkCount} encoded`}
                  </dd>
                </div>
                <Show when={j().retryOf}>
                  <div>
                    <dt>Retry of</dt>
                    <dd>
                      <a href={jobPath(j().retryOf!)} onClick={onNavClick} class="mono">
                        {j().retryOf}
                      </a>
                    </dd>
                  </div>
                </Show>
              </dl>
              <div class="row actions">
                <Show when={!FINAL_STATUSES.includes(j().status)}>
                  <button
                    type="button"
                    class="danger"
                    disabled={busy()}
                    onClick={() => act(() => api.cancel(j().jobId))}
                  >
                    Cancel job
                  </button>
                </Show>
                <Show when={j().status === "FAILED" || j().status === "CANCELLED"}>
                  <button
                    type="button"
                    class="primary"
                    disabled={busy()}
                    onClick={() => act(async () => navigate(jobPath((await api.retry(j().jobId)).jobId)))}
                  >
                    Retry
                  </button>
                </Show>
              </div>
              <Show when={j().notes.length}>
                <div class="notice" role="note" aria-labelledby="notes-title" data-testid="notes">
                  <strong id="notes-title">What the pipeline changed</strong>
                  <ul>
                    <For each={j().notes}>{(note) => <li>{note}</li>}</For>
                  </ul>
                </div>
              </Show>
              <Show when={j().error}>
                {(e) => (
                  <div class="failure" role="alert" data-testid="failure">
                    <strong>
                      {j().status === "CANCELLED" ? "Cancelled" : `Failed${e().stage ? ` during ${e().stage}` : ""}`}:
                    </strong>{" "}
                    {e().reason}
                  </div>
                )}
              </Show>
              <Show when={failedChunks().length}>
                <table class="small-table">
                  <caption>Chunk failures and retries</caption>
                  <thead>
                    <tr>
                      <th scope="col">Chunk</th>
                      <th scope="col">Status</th>
                      <th scope="col" class="r">
                        Attempts
                      </th>
                      <th scope="col">Reason</th>
                    </tr>
                  </thead>
                  <tbody>
                    <For each={failedChunks()}>
                      {(c) => (
                        <tr>
                          <td class="num">#{c.index}</td>
                          <td>{c.status}</td>
                          <td class="r num">{c.attempts ?? 0}</td>
                          <td class="reason">{failureReason(c)}</td>
                        </tr>
                      )}
                    </For>
                  </tbody>
                </table>
              </Show>
            </section>

            <section class="panel" aria-labelledby="stages-title">
              <h2 id="stages-title">Stages</h2>
              <div class="stages" data-testid="stages">
                <Stage name="Chunking" value={j().timings.chunking} />
                <Stage name="Encoding" value={j().timings.encoding} />
                <Stage name="Assembly" value={j().timings.assembly} />
                <Stage name="Total" value={j().timings.total} />
                <Stage name="Playable after" value={j().timings.playable} />
                <Stage name="Completed after" value={j().timings.completed} />
              </div>
            </section>

            <Show when={previewing(j())}>
              <section class="panel" aria-labelledby="preview-title" data-testid="preview">
                <h2 id="preview-title">Preview</h2>
                <p class="muted">
                  Playable while the rest encodes: the chunks encoded so far, in H.264, growing as more are done. The
                  checked outputs replace it when the job completes.
                </p>
                <Player jobId={j().jobId} packaging="ts" poster={null} captions={[]} />
              </section>
            </Show>

            <Show when={j().status === "COMPLETED"}>
              <Result job={j()} />
            </Show>

            <Show when={j().targetSsim}>
              {(target) => (
                <section class="panel" aria-labelledby="quality-title">
                  <h2 id="quality-title">Quality per chunk</h2>
                  <p class="muted">
                    Each chunk of each rung was encoded at the highest CRF whose SSIM, measured on the kept encode
                    against the pictures it was made from, reaches {target()}.
                  </p>
                  <QualityChart chunks={view.data!.chunks ?? []} target={target()} />
                </section>
              )}
            </Show>

            <section class="panel" aria-labelledby="gantt-title">
              <h2 id="gantt-title">Chunks by worker</h2>
              <Gantt chunks={view.data!.chunks ?? []} now={now()} />
            </section>

            <section class="panel" aria-labelledby="timeline-title">
              <h2 id="timeline-title">Timeline</h2>
              <Timeline events={view.data!.timeline} />
            </section>
          </>
        )}
      </Show>
    </>
  );
}

/** A job that plays its growing preview: playable, still working. */
const previewing = (j: JobSummary) => j.playable && (j.status === "ENCODING" || j.status === "ASSEMBLING");

/** The stored range, as it was asked for (the outputs follow it once the pipeline honours it). */
function trimText(trim: JobSummary["trim"]): string {
  if (!trim) return "whole video";
  const from = formatTime(trim.start);
  return trim.end === undefined ? `from ${from} to the end` : `${from} – ${formatTime(trim.end)}`;
}

function Stage(props: { name: string; value: number | null }) {
  return (
    <div class="stage">
      <span class="stage-name">{props.name}</span>
      <span class="stage-value num">{seconds(props.value, 2)}</span>
    </div>
  );
}
