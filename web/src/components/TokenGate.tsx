import { createSignal } from "solid-js";
import { setToken, token } from "../api.ts";

/** Shown when the API says 401: how to get a token, and a place to paste one. */
export function TokenGate() {
  const [value, setValue] = createSignal("");
  return (
    <section class="panel gate" aria-labelledby="gate-title">
      <h1 id="gate-title">This dashboard needs your API token</h1>
      <p role="alert">
        {token() ? "The API refused the token this browser has." : "This browser has no API token yet."}
      </p>
      <p>
        Open the address printed by <code>npm start</code> (it ends in <code>/#token=&hellip;</code>), or paste the
        token here. It is also in the file <code>.videoforge/token</code>.
      </p>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          if (value().trim()) setToken(value());
        }}
      >
        <label class="grow">
          <span class="sr-only">API token</span>
          <input
            type="password"
            autocomplete="off"
            placeholder="vf_…"
            value={value()}
            onInput={(e) => setValue(e.currentTarget.value)}
          />
        </label>
        <button type="submit">Use this token</button>
      </form>
    </section>
  );
}
