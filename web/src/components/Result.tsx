import { createEffect, createResource, For, onCleanup, Show } from "solid-js";
import { api, type JobSummary } from "../api.ts";
import { bitrate, bytes, seconds } from "../format.ts";
import { Player } from "./Player.tsx";

/** A completed job: the HLS player, every MP4 rendition to download, and the checks the finisher made. */
export function Result(props: { job: JobSummary }) {
  const [links, { refetch }] = createResource(
    () => props.job.jobId,
    (id) => api.outputs(id),
  );
  // download links are presigned for a short while (the API says how long): renew them at 80 % of it
  let renew: ReturnType<typeof setTimeout> | undefined;
  createEffect(() => {
    const seconds = links()?.expiresIn;
    clearTimeout(renew);
    if (seconds) renew = setTimeout(() => void refetch(), Math.max(5, seconds * 0.8) * 1000);
  });
  onCleanup(() => clearTimeout(renew));
  const source = () => props.job.source;

  return (
    <section class="panel" aria-labelledby="result-title">
      <h2 id="result-title">Result</h2>
      <div class="result">
        <Player jobId={props.job.jobId} poster={links()?.poster ?? null} />
        <div class="table-wrap">
          <table class="small-table" data-testid="renditions">
            <caption>
              Renditions, checked against the source
              {source() ? ` (${source()!.frames} frames, ${source()!.duration.toFixed(3)} s)` : ""}
            </caption>
            <thead>
              <tr>
                <th scope="col">Rendition</th>
                <th scope="col" class="r">
                  Size
                </th>
                <th scope="col" class="r">
                  Bitrate
                </th>
                <th scope="col" class="r">
                  Frames
                </th>
                <th scope="col" class="r">
                  Duration
                </th>
                <th scope="col">MP4</th>
              </tr>
            </thead>
            <tbody>
              <For each={props.job.outputs}>
                {(o) => {
                  const link = () => links()?.outputs.find((l) => l.rendition === o.rendition)?.url;
                  const framesOk = () => !source() || o.frames === source()!.frames;
                  return (
                    <tr data-rendition={o.rendition}>
                      <th scope="row">
                        {o.rendition} <span class="muted num">{`${o.width}×${o.height}`}</span>
                      </th>
                      <td class="r num">{bytes(o.bytes)}</td>
                      <td class="r num">{bitrate(o.bitrate)}</td>
                      <td class="r num" classList={{ bad: !framesOk() }}>
                        {o.frames} {framesOk() ? "✓" : "✗"}
                      </td>
                      <td class="r num">{seconds(o.duration, 3)}</td>
                      <td>
                        <Show when={link()} fallback={<span class="muted">…</span>}>
                          <a href={link()} download={`${o.rendition}.mp4`} data-testid={`download-${o.rendition}`}>
                            Download {o.rendition}
                          </a>
                        </Show>
                      </td>
                    </tr>
                  );
                }}
              </For>
            </tbody>
          </table>
        </div>
      </div>
      <Show when={links.error}>
        <p class="error" role="alert">
          Could not get download links: {(links.error as Error).message}
        </p>
      </Show>
    </section>
  );
}
