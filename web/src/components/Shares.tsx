import { createResource, createSignal, For, Show } from "solid-js";
import { api, type Share } from "../api.ts";
import { day } from "../format.ts";

/** The page a link opens, as its receiver will type or paste it: this dashboard's origin and the API's path. */
const linkUrl = (share: Share) => (share.path ? new URL(share.path, window.location.origin).href : "");

/**
 * A video's share links: make one (7 days unless said), copy its address (shown once: only its hash is
 * stored), and see and revoke the others. The API checks the days; its 400 message is shown as it comes.
 */
export function Shares(props: { videoId: string }) {
  const [list, { mutate }] = createResource(() => props.videoId, api.shares);
  const [days, setDays] = createSignal("7");
  const [created, setCreated] = createSignal<Share | null>(null);
  const [problem, setProblem] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);
  const [copied, setCopied] = createSignal<string | null>(null);
  const shares = () => (list.error ? [] : (list.latest?.shares ?? []));
  let urlInput: HTMLInputElement | undefined;

  async function create(e: SubmitEvent) {
    e.preventDefault();
    setBusy(true);
    setProblem(null);
    setCopied(null);
    try {
      const share = await api.createShare(props.videoId, Number(days()));
      setCreated(share);
      mutate((l) => ({ shares: [share, ...(l?.shares ?? [])] }));
    } catch (err) {
      setProblem((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  async function revoke(shareId: string) {
    setProblem(null);
    try {
      const after = await api.revokeShare(props.videoId, shareId);
      mutate((l) => l && { shares: l.shares.map((s) => (s.shareId === shareId ? after : s)) });
      // a link that no longer works is not offered for copying
      if (created()?.shareId === shareId) setCreated(null);
    } catch (err) {
      setProblem((err as Error).message);
    }
  }

  async function copy(url: string) {
    try {
      await navigator.clipboard.writeText(url);
      setCopied("Copied.");
    } catch {
      // no clipboard (an insecure origin, or permission refused): leave the address selected instead
      urlInput?.select();
      setCopied("Selected: copy it with your keyboard.");
    }
  }

  return (
    <div class="shares" data-testid="shares">
      <form class="row" aria-label="New share link" onSubmit={create}>
        <label>
          Expires in (days){" "}
          <input
            type="number"
            class="days"
            min="1"
            max="365"
            step="any"
            value={days()}
            aria-invalid={problem() ? true : undefined}
            aria-describedby={problem() ? "share-problem" : undefined}
            onInput={(e) => setDays(e.currentTarget.value)}
          />
        </label>
        <button type="submit" disabled={busy()}>
          Create link
        </button>
      </form>
      <Show when={problem()}>
        <p id="share-problem" class="field-error" role="alert" data-testid="share-problem">
          {problem()}
        </p>
      </Show>
      <Show when={created()} keyed>
        {(share) => (
          <div class="new-share">
            <label for="share-url" class="small">
              Anyone with this link can watch until {day(share.expiresAt)}. It is shown only now.
            </label>
            <div class="row">
              <input
                ref={urlInput}
                id="share-url"
                class="grow mono"
                type="text"
                readOnly
                value={linkUrl(share)}
                data-testid="share-url"
                onFocus={(e) => e.currentTarget.select()}
              />
              <button type="button" onClick={() => void copy(linkUrl(share))}>
                Copy
              </button>
            </div>
            <p class="muted small" aria-live="polite">
              {copied() ?? "\u00a0"}
            </p>
          </div>
        )}
      </Show>
      <Show when={list.error as Error | undefined}>
        {(err) => (
          <p class="error" role="alert">
            Could not list the share links: {err().message}
          </p>
        )}
      </Show>
      <Show when={shares().length} fallback={<p class="muted small">No share links yet.</p>}>
        <table class="small-table share-table" data-testid="share-list">
          <caption>Links to this video, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Created</th>
              <th scope="col">Expires</th>
              <th scope="col">State</th>
              <th scope="col">
                <span class="sr-only">Action</span>
              </th>
            </tr>
          </thead>
          <tbody>
            <For each={shares()}>
              {(s) => (
                <tr data-share-id={s.shareId}>
                  <td class="num">{day(s.createdAt)}</td>
                  <td class="num">{day(s.expiresAt)}</td>
                  <td data-testid="share-state">{state(s)}</td>
                  <td class="r">
                    <Show when={s.revokedAt === null && s.expiresAt > Date.now()}>
                      <button
                        type="button"
                        class="danger"
                        aria-label={`Revoke the link created ${day(s.createdAt)}, expiring ${day(s.expiresAt)}`}
                        onClick={() => void revoke(s.shareId)}
                      >
                        Revoke
                      </button>
                    </Show>
                  </td>
                </tr>
              )}
            </For>
          </tbody>
        </table>
      </Show>
    </div>
  );
}

function state(s: Share): string {
  if (s.revokedAt !== null) return `revoked ${day(s.revokedAt)}`;
  return s.expiresAt > Date.now() ? "active" : "expired";
}
