import { For, Show } from "solid-js";
import type { JobSummary } from "../api.ts";
import { bitrate, bytes, seconds } from "../format.ts";
import { fileName, useOutputLinks } from "../links.ts";
import { Player } from "./Player.tsx";

/** A completed job: the HLS player, every MP4 rendition to download, and the checks the finisher made. */
export function Result(props: { job: JobSummary }) {
  const links = useOutputLinks(() => props.job.jobId);
  // what every rendition must hold: the source's frames, or a trim's kept range
  const source = () => props.job.kept ?? props.job.source;

  return (
    <section class="panel" aria-labelledby="result-title">
      <h2 id="result-title">Result</h2>
      <div class="result">
        {/* an audio-only job has no stream to play: its files are in the table */}
        <Show when={props.job.hls}>
          <Player
            jobId={props.job.jobId}
            poster={links()?.poster ?? null}
            packaging={props.job.packaging}
            captions={links()?.captions ?? []}
          />
        </Show>
        <div class="table-wrap">
          <table class="small-table" data-testid="renditions">
            <caption>
              Renditions, checked against the {props.job.kept ? "trimmed " : ""}source
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
                <th scope="col">File</th>
              </tr>
            </thead>
            <tbody>
              <For each={props.job.outputs}>
                {(o) => {
                  const link = () => links()?.outputs.find((l) => l.rendition === o.rendition)?.url;
                  const name = fileName(o.key);
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
                      <DownloadCell url={link()} name={name} testId={`download-${o.rendition}`} />
                    </tr>
                  );
                }}
              </For>
              <For each={props.job.captions}>
                {(c) => (
                  <SideFileRow
                    name={`${c.language}.vtt`}
                    kind="captions"
                    bytes={c.bytes}
                    url={links()?.captions.find((l) => l.language === c.language)?.url}
                    testId={`download-captions-${c.language}`}
                  />
                )}
              </For>
              <For each={props.job.audio}>
                {(a) => (
                  <SideFileRow
                    name={`audio.${a.format}`}
                    kind="audio only"
                    bytes={a.bytes}
                    bitrate={a.bitrate}
                    duration={a.duration}
                    url={links()?.audio.find((l) => l.format === a.format)?.url}
                    testId={`download-audio.${a.format}`}
                  />
                )}
              </For>
            </tbody>
          </table>
        </div>
      </div>
      <Show when={links.error()}>
        <p class="error" role="alert">
          Could not get download links: {links.error()!.message}
        </p>
      </Show>
    </section>
  );
}

/** A file's download link, once the presigned URLs have arrived. */
function DownloadCell(props: { url: string | undefined; name: string; testId: string }) {
  return (
    <td>
      <Show when={props.url} fallback={<span class="muted">…</span>}>
        <a href={props.url} download={props.name} data-testid={props.testId}>
          Download {props.name}
        </a>
      </Show>
    </td>
  );
}

/** A file beside the renditions (an audio-only file, a captions track): no frames to check. */
function SideFileRow(props: {
  name: string;
  kind: string;
  bytes: number;
  bitrate?: number;
  duration?: number;
  url: string | undefined;
  testId: string;
}) {
  const none = <span class="muted">—</span>;
  return (
    <tr data-rendition={props.name}>
      <th scope="row">
        {props.name} <span class="muted">{props.kind}</span>
      </th>
      <td class="r num">{bytes(props.bytes)}</td>
      <td class="r num">{props.bitrate !== undefined ? bitrate(props.bitrate) : none}</td>
      <td class="r num">{none}</td>
      <td class="r num">{props.duration !== undefined ? seconds(props.duration, 3) : none}</td>
      <DownloadCell url={props.url} name={props.name} testId={props.testId} />
    </tr>
  );
}
