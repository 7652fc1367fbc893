import { createResource, createSignal, For, onCleanup, Show } from "solid-js";
import { api, type Video } from "../api.ts";
import { bytes, clock, day } from "../format.ts";
import { onNavClick, watchPath } from "../router.ts";

/** Typing pauses this long before the library is asked again: one request per word, not per key. */
const SEARCH_DEBOUNCE_MS = 250;

/** The finished videos, newest first, as poster cards; a search by title; the storage they take. */
export function Library() {
  const [text, setText] = createSignal("");
  const [query, setQuery] = createSignal("");
  let debounce: ReturnType<typeof setTimeout> | undefined;
  onCleanup(() => clearTimeout(debounce));
  function typed(value: string) {
    setText(value);
    clearTimeout(debounce);
    debounce = setTimeout(() => setQuery(value.trim()), SEARCH_DEBOUNCE_MS);
  }

  // the pages after the first, appended by "Show more"; a new search starts over
  const [more, setMore] = createSignal<Video[]>([]);
  const [next, setNext] = createSignal<string | null>(null);
  const [paging, setPaging] = createSignal(false);
  const [pageError, setPageError] = createSignal("");
  // `latest` keeps the cards of the previous search on screen while the next one loads; each answer
  // carries its own query, so an empty state names the search it answers
  const [list] = createResource(query, async (q) => {
    setMore([]);
    const first = await api.videos(q);
    setNext(first.next);
    return { q, ...first };
  });
  const shown = () => (list.error ? undefined : list.latest);
  async function showMore() {
    const cursor = next();
    if (!cursor || paging()) return;
    setPaging(true);
    setPageError("");
    try {
      const page = await api.videos(query(), cursor);
      setMore([...more(), ...page.videos]);
      setNext(page.next);
    } catch (err) {
      setPageError((err as Error).message);
    } finally {
      setPaging(false);
    }
  }

  return (
    <section class="panel" aria-labelledby="library-title">
      <div class="library-head">
        <h1 id="library-title" class="grow">
          Library
        </h1>
        <Show when={shown()}>
          {(l) => (
            <p class="muted num" data-testid="storage">
              Storage in use: {bytes(l().storageBytes ?? 0)}
            </p>
          )}
        </Show>
      </div>
      <form class="library-search" role="search" onSubmit={(e) => e.preventDefault()}>
        <label for="library-q">Search titles</label>
        <input
          id="library-q"
          type="search"
          autocomplete="off"
          placeholder="Part of a title"
          value={text()}
          onInput={(e) => typed(e.currentTarget.value)}
        />
      </form>
      <Show when={list.error}>
        <p class="error" role="alert">
          Could not load the library: {(list.error as Error).message}
        </p>
      </Show>
      <Show
        when={shown()}
        fallback={
          <Show when={!list.error}>
            <p class="muted">Loading…</p>
          </Show>
        }
      >
        {(l) => (
          <Show
            when={l().videos.length + more().length > 0 || next()}
            fallback={
              <p class="muted" data-testid="library-empty">
                {l().q
                  ? `No video has “${l().q}” in its title.`
                  : "No videos yet. A job becomes a video here once it completes."}
              </p>
            }
          >
            <ul class="library-grid" aria-busy={list.loading}>
              <For each={[...l().videos, ...more()]}>{(video) => <VideoCard video={video} />}</For>
            </ul>
            <Show when={next()}>
              <p>
                <button type="button" data-testid="library-more" disabled={paging()} onClick={() => void showMore()}>
                  {paging() ? "Loading…" : "Show more"}
                </button>
              </p>
            </Show>
            <Show when={pageError()}>
              <p class="error" role="alert">
                Could not load more videos: {pageError()}
              </p>
            </Show>
          </Show>
        )}
      </Show>
    </section>
  );
}

function VideoCard(props: { video: Video }) {
  return (
    <li class="video-card" data-testid="video-card" data-video-id={props.video.videoId}>
      <a href={watchPath(props.video.videoId)} onClick={onNavClick}>
        <Poster video={props.video} />
        <span class="video-title">{props.video.title}</span>
        <span class="muted small num">
          <span data-testid="video-duration">{clock(props.video.duration)}</span> ·{" "}
          <time dateTime={new Date(props.video.createdAt).toISOString()}>{day(props.video.createdAt)}</time>
        </span>
      </a>
    </li>
  );
}

/** The poster, or a placeholder where there is none (an audio-only job has no picture). */
export function Poster(props: { video: Pick<Video, "poster" | "width"> }) {
  return (
    <Show
      when={props.video.poster}
      fallback={
        <span class="poster placeholder" data-testid="poster-placeholder">
          {props.video.width === 0 ? "♪ Audio only" : "No poster"}
        </span>
      }
    >
      {/* the title beside it names the card: the picture adds nothing a screen reader should repeat */}
      {(src) => <img class="poster" src={src()} alt="" loading="lazy" decoding="async" data-testid="poster" />}
    </Show>
  );
}
