import { Match, Switch } from "solid-js";
import { unauthorized } from "./api.ts";
import { onNavClick, route, type Route } from "./router.ts";
import { TokenGate } from "./components/TokenGate.tsx";
import { SessionBadge, SignInGate } from "./components/SignIn.tsx";
import { cognito } from "./auth/cognito.ts";
import { UploadPanel } from "./components/UploadPanel.tsx";
import { JobList } from "./components/JobList.tsx";
import { JobDetail } from "./components/JobDetail.tsx";

export function App(props: { signInError?: string }) {
  return (
    <>
      <header class="top">
        <a href="/" class="brand" onClick={onNavClick}>
          videoforge
        </a>
        <span class="tagline">chunk-parallel video encoding</span>
        <SessionBadge />
      </header>
      <main>
        <Switch>
          <Match when={unauthorized()}>{cognito ? <SignInGate error={props.signInError} /> : <TokenGate />}</Match>
          <Match when={route().name === "home"}>
            <UploadPanel />
            <JobList />
          </Match>
          {/* keyed: another job's page is a new component (its polling starts over) */}
          <Match when={jobIdOf(route())} keyed>
            {(jobId) => <JobDetail jobId={jobId} />}
          </Match>
        </Switch>
      </main>
    </>
  );
}

const jobIdOf = (r: Route) => (r.name === "job" ? r.jobId : null);
