import { render } from "solid-js/web";
import { App } from "./App.tsx";
import { adoptSession } from "./api.ts";
import { cognito, completeSignIn } from "./auth/cognito.ts";
import { navigate } from "./router.ts";
import "./styles.css";

// on AWS, finish a hosted-UI callback (or pick up this tab's session) before anything calls the API
let signInError: string | undefined;
if (cognito) {
  const done = await completeSignIn();
  signInError = done.error;
  adoptSession(done.tokens);
  navigate(window.location.pathname);
}

render(() => <App signInError={signInError} />, document.getElementById("root")!);
