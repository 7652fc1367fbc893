import { createResource, createSignal, For, onMount, Show } from "solid-js";
import { api, type OutputLinks, type Video } from "../api.ts";
import { bytes, clock, day } from "../format.ts";
import { fileName, useOutputLinks } from "../links.ts";
import { jobPath, LIBRARY_PATH, onNavClick } from "../router.ts";
import { Poster } from "./Library.tsx";
import { Player } from "./Player.tsx";
import { Shares } from "./Shares.tsx";

/**
 * One video: its title and description (editable), the player with its quality choice, a link to
 * each file, and its share links. The player needs the job's packaging, so the job is read once beside the video.
 */
export function Watch(props: { videoId: string }) {
  const [video, { mutate }] = createResource(() => props.videoId, api.video);
  const [view] = createResource(() => props.videoId, api.job);
  const links = useOutputLinks(() => props.videoId);
  const [editing, setEditing] = createSignal(false);
  // resources throw when read after a failure: these read them only when there is something to show
  const current = () => (video.error ? undefined : video.latest);
  const job = () => (view.error ? undefined : view.latest?.job);

  return (
    <>
      <p class="crumbs">
        <a href={LIBRARY_PATH} onClick={onNavClick}>
          ← Library
        </a>
      </p>
      <Show when={video.error ?? view.error}>
        {(err) => (
          <p class="error" role="alert" data-testid="watch-error">
            {(err() as Error).message}{" "}
            <a href={jobPath(props.videoId)} onClick={onNavClick}>
              Open its job page
            </a>
          </p>
        )}
      </Show>
      <Show when={current()} fallback={<p class="muted">Loading video {props.videoId}…</p>}>
        {(v) => (
          <section class="panel" aria-labelledby="watch-title">
            <div class="job-head">
              <h1 id="watch-title" class="grow" data-testid="watch-title">
                {v().title}
              </h1>
              <Show when={!editing()}>
                <button type="button" onClick={() => setEditing(true)}>
                  Edit
                </button>
              </Show>
            </div>
            <div class="watch">
              <div>
                <Show when={job()} fallback={<div class="video-box" />}>
                  {(j) => (
                    <Show when={j().hls} fallback={<Poster video={v()} />}>
                      <Player
                        jobId={v().videoId}
                        poster={links()?.poster ?? v().poster}
                        packaging={j().packaging}
                        captions={links()?.captions ?? []}
                      />
                    </Show>
                  )}
                </Show>
              </div>
              <div class="watch-side">
                <Show
                  when={editing()}
                  fallback={
                    <p class="description" data-testid="watch-description">
                      {v().description || <span class="muted">No description.</span>}
                    </p>
                  }
                >
                  <EditForm
                    video={v()}
                    onDone={(saved) => {
                      if (saved) mutate(saved);
                      setEditing(false);
                    }}
                  />
                </Show>
                <p class="muted small num">
                  {clock(v().duration)}
                  {v().width ? ` · ${v().width}×${v().height}` : " · audio only"} · {bytes(v().bytes)} ·{" "}
                  {day(v().createdAt)} ·{" "}
                  <a href={jobPath(v().videoId)} onClick={onNavClick}>
                    job page
                  </a>
                </p>
                <h2 id="downloads-title">Downloads</h2>
                <Downloads links={links()} />
                <Show when={links.error()}>
                  <p class="error" role="alert">
                    Could not get download links: {links.error()!.message}
                  </p>
                </Show>
                <h2 id="share-title">Share</h2>
                <Shares videoId={v().videoId} />
              </div>
            </div>
          </section>
        )}
      </Show>
    </>
  );
}

/** Title and description; the API checks them, and its 400 message is shown as it comes. */
function EditForm(props: { video: Video; onDone(saved: Video | null): void }) {
  const [title, setTitle] = createSignal(props.video.title);
  const [description, setDescription] = createSignal(props.video.description);
  const [problem, setProblem] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);
  let titleInput!: HTMLInputElement;
  // the form replaces what the Edit button showed: typing starts where the button was pressed
  onMount(() => titleInput.focus());

  async function save(e: SubmitEvent) {
    e.preventDefault();
    // only what changed: a file name longer than a title may be must not block a new description
    const edit = {
      ...(title() !== props.video.title ? { title: title() } : {}),
      ...(description() !== props.video.description ? { description: description() } : {}),
    };
    if (!Object.keys(edit).length) return props.onDone(null);
    setBusy(true);
    setProblem(null);
    try {
      props.onDone(await api.editVideo(props.video.videoId, edit));
    } catch (err) {
      setProblem((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="edit-video" aria-label="Edit video" onSubmit={save}>
      <div class="field">
        <label for="video-title">Title</label>
        <input
          ref={titleInput}
          id="video-title"
          type="text"
          maxLength={200}
          value={title()}
          aria-invalid={problem() ? true : undefined}
          aria-describedby={problem() ? "video-edit-problem" : undefined}
          onInput={(e) => setTitle(e.currentTarget.value)}
        />
      </div>
      <div class="field">
        <label for="video-description">Description</label>
        <textarea
          id="video-description"
          rows={4}
          maxLength={5000}
          value={description()}
          onInput={(e) => setDescription(e.currentTarget.value)}
        />
      </div>
      <Show when={problem()}>
        <p id="video-edit-problem" class="field-error edit-problem" role="alert" data-testid="edit-problem">
          {problem()}
        </p>
      </Show>
      <div class="row">
        <button type="submit" class="primary" disabled={busy()}>
          Save
        </button>
        <button type="button" disabled={busy()} onClick={() => props.onDone(null)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** Each rendition, audio-only file and captions file, once the presigned URLs have arrived. */
function Downloads(props: { links: OutputLinks | undefined }) {
  return (
    <Show when={props.links} fallback={<p class="muted">…</p>}>
      {(l) => (
        <ul class="downloads" aria-labelledby="downloads-title" data-testid="downloads">
          <For each={l().outputs}>
            {(o) => <File url={o.url} name={fileName(o.key)} what={`${o.width}×${o.height} · ${bytes(o.bytes)}`} />}
          </For>
          <For each={l().audio}>
            {(a) => <File url={a.url} name={fileName(a.key)} what={`audio only · ${bytes(a.bytes)}`} />}
          </For>
          <For each={l().captions}>
            {(c) => <File url={c.url} name={fileName(c.key)} what={`captions · ${bytes(c.bytes)}`} />}
          </For>
        </ul>
      )}
    </Show>
  );
}

function File(props: { url: string; name: string; what: string }) {
  return (
    <li>
      <a href={props.url} download={props.name} data-testid={`watch-download-${props.name}`}>
        {props.name}
      </a>{" "}
      <span class="muted small num">{props.what}</span>
    </li>
  );
}
