import { createResource, Match, Switch } from "solid-js";
import { api } from "../api.ts";
import { clock, day } from "../format.ts";
import { Poster } from "./Library.tsx";
import { Player } from "./Player.tsx";

/**
 * A video shared by a link (`/s/<token>`), for someone without an account: no token is read or sent. A link
 * that does not work shows the API's reason (no such link, revoked, expired, video gone) and nothing else.
 */
export function Shared(props: { token: string }) {
  const [shared] = createResource(() => props.token, api.shared);
  // a resource throws when read after a failure: read it only when there is something to show
  const current = () => (shared.error ? undefined : shared.latest);

  return (
    <Switch fallback={<p class="muted">Loading the shared video…</p>}>
      <Match when={shared.error as Error | undefined}>
        {(err) => (
          <section class="panel gate" aria-labelledby="shared-problem-title">
            <h1 id="shared-problem-title">This link does not open a video</h1>
            <p class="error" role="alert" data-testid="shared-error">
              {err().message}
            </p>
          </section>
        )}
      </Match>
      <Match when={current()}>
        {(s) => (
          <section class="panel" aria-labelledby="shared-title">
            <h1 id="shared-title" data-testid="shared-title">
              {s().video.title}
            </h1>
            <div class="watch">
              <div>
                {/* keyed on the URL: a renewed answer with the same stream must not restart playback */}
                <Switch fallback={<Poster video={s().video} />}>
                  <Match when={s().hls} keyed>
                    {(hls) => <Player hls={api.apiUrl(hls)} poster={s().video.poster} captions={[]} />}
                  </Match>
                </Switch>
              </div>
              <div class="watch-side">
                <p class="description" data-testid="shared-description">
                  {s().video.description || <span class="muted">No description.</span>}
                </p>
                <p class="muted small num">
                  {clock(s().video.duration)}
                  {s().video.width ? ` · ${s().video.width}×${s().video.height}` : " · audio only"} · shared until{" "}
                  {day(s().expiresAt)}
                </p>
              </div>
            </div>
          </section>
        )}
      </Match>
    </Switch>
  );
}
