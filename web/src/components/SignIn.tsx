import { Show, createSignal } from "solid-js";
import { session } from "../api.ts";
import { signIn, signOut, signedInAs } from "../auth/cognito.ts";

/** Shown on AWS (a Cognito build) when there is no session, or it could not be renewed. */
export function SignInGate(props: { error?: string }) {
  const [busy, setBusy] = createSignal(false);
  return (
    <section class="panel gate" aria-labelledby="gate-title">
      <h1 id="gate-title">Sign in to videoforge</h1>
      <Show when={props.error}>
        <p role="alert" data-testid="sign-in-error">
          {props.error}
        </p>
      </Show>
      <p>
        Your account is managed by the operator of this deployment; there is no self sign-up unless they turned it on.
      </p>
      <button
        type="button"
        disabled={busy()}
        onClick={() => {
          setBusy(true);
          void signIn().catch(() => setBusy(false));
        }}
      >
        Sign in
      </button>
    </section>
  );
}

/** Who is signed in, and the way out (header, Cognito builds only). */
export function SessionBadge() {
  return (
    <Show when={session()}>
      <span class="session" data-testid="session">
        <span data-testid="signed-in-as">{signedInAs(session()) ?? "signed in"}</span>
        <button type="button" class="link" onClick={() => signOut()}>
          Sign out
        </button>
      </span>
    </Show>
  );
}
