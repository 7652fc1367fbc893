import { createEffect, createResource, onCleanup } from "solid-js";
import { api, type OutputLinks } from "./api.ts";

/**
 * A completed job's presigned URLs (downloads, captions, poster), renewed at 80 % of the time
 * the API says they stay valid, so a page left open keeps working links. The accessor is
 * undefined until they arrive and after a failure, which `.error()` then holds: unlike a
 * resource's, reading it never throws into the page.
 */
export function useOutputLinks(jobId: () => string): {
  (): OutputLinks | undefined;
  error(): Error | undefined;
} {
  const [links, { refetch }] = createResource(jobId, (id) => api.outputs(id));
  const current = () => (links.error ? undefined : links.latest);
  let renew: ReturnType<typeof setTimeout> | undefined;
  createEffect(() => {
    const seconds = current()?.expiresIn;
    clearTimeout(renew);
    if (seconds) renew = setTimeout(() => void refetch(), Math.max(5, seconds * 0.8) * 1000);
  });
  onCleanup(() => clearTimeout(renew));
  return Object.assign(current, { error: () => links.error as Error | undefined });
}

/** A file's name as storage keeps it: the last segment of its key (`240p.mp4`, `audio.m4a`). */
export const fileName = (key: string) => key.slice(key.lastIndexOf("/") + 1);
