import { createSignal } from "solid-js";
import { ID_PATTERN } from "@videoforge/events/ids";

/**
 * Six screens, addressed by path: `/` (upload + jobs), `/job/<id>` (one job), `/library` (the
 * finished videos), `/watch/<id>` (one video), `/hooks` (webhook endpoints and their deliveries) and
 * `/s/<token>` (a video shared by a link, for someone without an account). Not `/jobs/<id>`, `/videos`,
 * `/webhooks` or `/shared/<token>`: those paths belong to the API, which the same server answers first.
 */
export type Route =
  | { name: "home" }
  | { name: "job"; jobId: string }
  | { name: "library" }
  | { name: "webhooks" }
  | { name: "watch"; videoId: string }
  | { name: "shared"; token: string };

function parse(pathname: string): Route {
  if (/^\/library\/?$/.test(pathname)) return { name: "library" };
  if (/^\/hooks\/?$/.test(pathname)) return { name: "webhooks" };
  // the token is checked by the API alone, which says why a link does not work (a malformed one too)
  const [, token] = /^\/s\/([^/]+)\/?$/.exec(pathname) ?? [];
  if (token) return { name: "shared", token };
  const [, screen, id] = /^\/(job|watch)\/([^/]+)\/?$/.exec(pathname) ?? [];
  if (!id || !ID_PATTERN.test(id)) return { name: "home" };
  return screen === "job" ? { name: "job", jobId: id } : { name: "watch", videoId: id };
}

const [route, setRoute] = createSignal<Route>(parse(window.location.pathname));
export { route };

export const jobPath = (jobId: string) => `/job/${jobId}`;
export const LIBRARY_PATH = "/library";
export const WEBHOOKS_PATH = "/hooks";
/** A video's id is its job's. */
export const watchPath = (videoId: string) => `/watch/${videoId}`;

export function navigate(path: string) {
  if (path !== window.location.pathname) history.pushState(null, "", path);
  setRoute(parse(path));
  window.scrollTo(0, 0);
}

window.addEventListener("popstate", () => setRoute(parse(window.location.pathname)));

/** Same-origin left clicks on `<a data-nav>` links stay in the page. */
export function onNavClick(e: MouseEvent) {
  const a = e.currentTarget as HTMLAnchorElement;
  if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(new URL(a.href).pathname);
}
