import { Match, Show, Switch } from "solid-js";
import { unauthorized } from "./api.ts";
import { LIBRARY_PATH, onNavClick, route, WEBHOOKS_PATH, type Route } from "./router.ts";
import { TokenGate } from "./components/TokenGate.tsx";
import { SessionBadge, SignInGate } from "./components/SignIn.tsx";
import { cognito } from "./auth/cognito.ts";
import { UploadPanel } from "./components/UploadPanel.tsx";
import { JobList } from "./components/JobList.tsx";
import { JobDetail } from "./components/JobDetail.tsx";
import { Library } from "./components/Library.tsx";
import { Watch } from "./components/Watch.tsx";
import { Shared } from "./components/Shared.tsx";
import { Webhooks } from "./components/Webhooks.tsx";

export function App(props: { signInError?: string }) {
  return (
    <>
      <header class="top">
        <a href="/" class="brand" onClick={onNavClick}>
          videoforge
        </a>
        <span class="tagline">chunk-parallel video encoding</span>
        {/* someone watching a shared link has no account: no sections, no session */}
        <Show when={route().name !== "shared"}>
          <nav class="nav" aria-label="Sections">
            <a href="/" onClick={onNavClick} aria-current={section() === "jobs" ? "page" : undefined}>
              Jobs
            </a>
            <a href={LIBRARY_PATH} onClick={onNavClick} aria-current={section() === "library" ? "page" : undefined}>
              Library
            </a>
            <a href={WEBHOOKS_PATH} onClick={onNavClick} aria-current={section() === "webhooks" ? "page" : undefined}>
              Webhooks
            </a>
          </nav>
          <SessionBadge />
        </Show>
      </header>
      <main>
        <Switch>
          {/* before the gate: a share link is its own credential, and works in a browser with no token */}
          <Match when={tokenOf(route())} keyed>
            {(token) => <Shared token={token} />}
          </Match>
          <Match when={unauthorized()}>{cognito ? <SignInGate error={props.signInError} /> : <TokenGate />}</Match>
          <Match when={route().name === "home"}>
            <UploadPanel />
            <JobList />
          </Match>
          {/* keyed: another job's page is a new component (its polling starts over) */}
          <Match when={jobIdOf(route())} keyed>
            {(jobId) => <JobDetail jobId={jobId} />}
          </Match>
          <Match when={route().name === "library"}>
            <Library />
          </Match>
          <Match when={route().name === "webhooks"}>
            <Webhooks />
          </Match>
          <Match when={videoIdOf(route())} keyed>
            {(videoId) => <Watch videoId={videoId} />}
          </Match>
        </Switch>
      </main>
    </>
  );
}

const jobIdOf = (r: Route) => (r.name === "job" ? r.jobId : null);
const videoIdOf = (r: Route) => (r.name === "watch" ? r.videoId : null);
const tokenOf = (r: Route) => (r.name === "shared" ? r.token : null);
/** Which header link is the current page's: a job belongs to the jobs, a video to the library. */
const section = () =>
  route().name === "home" || route().name === "job" ? "jobs" : route().name === "webhooks" ? "webhooks" : "library";
