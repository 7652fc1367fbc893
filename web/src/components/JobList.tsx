import { createSignal, For, onCleanup, Show } from "solid-js";
import { createStore, reconcile } from "solid-js/store";
import { client, poll, type ApiError, type JobSummary } from "../api.ts";
import { age, clock, percent } from "../format.ts";
import { jobPath, onNavClick } from "../router.ts";
import { StatusBadge } from "./StatusBadge.tsx";

/** Every job, newest first, kept current by polling GET /jobs (unchanged answers are 304s). */
export function JobList() {
  // reconciled by jobId: a changed job updates its cells in place, rows are never rebuilt
  const [store, setStore] = createStore<{ jobs: JobSummary[]; loaded: boolean }>({ jobs: [], loaded: false });
  const [error, setError] = createSignal<string | null>(null);
  const [now, setNow] = createSignal(Date.now());
  const stop = poll(
    (options) => client.jobs.$get(undefined, options),
    1000,
    (data) => {
      setStore("jobs", reconcile(data.jobs, { key: "jobId" }));
      setStore("loaded", true);
      setError(null);
    },
    (err: ApiError) => setError(err.message),
  );
  const clockTimer = setInterval(() => setNow(Date.now()), 5000);
  onCleanup(() => {
    stop();
    clearInterval(clockTimer);
  });

  return (
    <section class="panel jobs" aria-labelledby="jobs-title">
      <h2 id="jobs-title">Jobs</h2>
      <Show when={error()}>
        <p class="error" role="alert">
          {error()}
        </p>
      </Show>
      <Show when={store.loaded} fallback={<p class="muted">Loading…</p>}>
        {(_) => (
          <Show when={store.jobs.length} fallback={<p class="muted">No jobs yet. Upload a video above.</p>}>
            <div class="table-wrap">
              <table class="job-table" data-testid="job-table">
                <thead>
                  <tr>
                    <th scope="col">Status</th>
                    <th scope="col">Source</th>
                    <th scope="col" class="r">
                      Duration
                    </th>
                    <th scope="col" class="r">
                      Resolution
                    </th>
                    <th scope="col">Progress</th>
                    <th scope="col" class="r">
                      Age
                    </th>
                  </tr>
                </thead>
                <tbody>
                  <For each={store.jobs}>
                    {(job) => (
                      <tr data-job-id={job.jobId} data-testid="job-row">
                        <td data-label="Status">
                          <StatusBadge status={job.status} />
                        </td>
                        <td data-label="Source" class="name">
                          <a href={jobPath(job.jobId)} onClick={onNavClick} title={job.jobId}>
                            {job.name}
                          </a>
                          <Show when={job.retryOf}>
                            <span class="muted small"> (retry)</span>
                          </Show>
                        </td>
                        <td data-label="Duration" class="r num">
                          {job.source ? clock(job.source.duration) : "—"}
                        </td>
                        <td data-label="Resolution" class="r num">
                          {!job.source ? "—" : job.source.width ? `${job.source.width}×${job.source.height}` : "audio"}
                        </td>
                        <td data-label="Progress">
                          <div class="mini-progress">
                            <progress
                              max={1}
                              value={job.status === "COMPLETED" ? 1 : job.progress}
                              aria-label={`Progress of ${job.name}`}
                            />
                            <span class="num">
                              {job.chunkCount
                                ? `${job.chunksEncoded}/${job.chunkCount}`
                                : job.status === "COMPLETED"
                                  ? "100%"
                                  : percent(job.progress)}
                            </span>
                          </div>
                        </td>
                        <td data-label="Age" class="r num">
                          {age(job.createdAt, now())}
                        </td>
                      </tr>
                    )}
                  </For>
                </tbody>
              </table>
            </div>
          </Show>
        )}
      </Show>
    </section>
  );
}
