import { createSignal } from "solid-js";
import { ID_PATTERN } from "@videoforge/events/ids";

/**
 * Two screens, addressed by path: `/` (upload + jobs) and `/job/<id>` (one job). Not
 * `/jobs/<id>`: that path belongs to the API, which the same server answers first.
 */
export type Route = { name: "home" } | { name: "job"; jobId: string };

function parse(pathname: string): Route {
  const id = /^\/job\/([^/]+)\/?$/.exec(pathname)?.[1];
  return id && ID_PATTERN.test(id) ? { name: "job", jobId: id } : { name: "home" };
}

const [route, setRoute] = createSignal<Route>(parse(window.location.pathname));
export { route };

export const jobPath = (jobId: string) => `/job/${jobId}`;

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
