import { createResource, createSignal, For, Show } from "solid-js";
import { WEBHOOK_EVENT_TYPES } from "@videoforge/core/webhook-events";
import { api, type Delivery, type Webhook, type WebhookEventType } from "../api.ts";
import { jobPath, onNavClick } from "../router.ts";

/**
 * The user's webhook endpoints: add one (its signing secret is shown once), see each one's deliveries with every
 * attempt, send one again, remove an endpoint. The API checks the URL; its 400 message is shown as it comes.
 */
export function Webhooks() {
  const [list, { mutate }] = createResource(api.webhooks);
  const [url, setUrl] = createSignal("");
  const [events, setEvents] = createSignal<WebhookEventType[]>([...WEBHOOK_EVENT_TYPES]);
  const [created, setCreated] = createSignal<Webhook | null>(null);
  const [problem, setProblem] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);
  const [open, setOpen] = createSignal<string | null>(null);
  const hooks = () => (list.error ? [] : (list.latest?.webhooks ?? []));

  const toggle = (type: WebhookEventType, on: boolean) =>
    setEvents(WEBHOOK_EVENT_TYPES.filter((t) => (t === type ? on : events().includes(t))));

  async function add(e: SubmitEvent) {
    e.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      const hook = await api.addWebhook({ url: url().trim(), events: events() });
      setCreated(hook);
      setUrl("");
      mutate((l) => ({ webhooks: [{ ...hook, secret: undefined }, ...(l?.webhooks ?? [])] }));
    } catch (err) {
      setProblem((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  async function remove(id: string) {
    setProblem(null);
    try {
      await api.removeWebhook(id);
      mutate((l) => l && { webhooks: l.webhooks.filter((w) => w.id !== id) });
      if (created()?.id === id) setCreated(null);
      if (open() === id) setOpen(null);
    } catch (err) {
      setProblem((err as Error).message);
    }
  }

  return (
    <section class="panel" aria-labelledby="webhooks-title">
      <h1 id="webhooks-title">Webhooks</h1>
      <p class="muted small">
        Each event is POSTed to your endpoint as JSON, signed in the <code>videoforge-signature</code> header, and
        retried with backoff for a day while it fails.
      </p>
      <form class="webhook-form" aria-label="New webhook" onSubmit={add}>
        <label for="webhook-url">Endpoint URL</label>
        <div class="row">
          <input
            id="webhook-url"
            class="grow"
            type="url"
            required
            placeholder="https://example.com/hooks/videoforge"
            value={url()}
            aria-invalid={problem() ? true : undefined}
            aria-describedby={problem() ? "webhook-problem" : undefined}
            onInput={(e) => setUrl(e.currentTarget.value)}
          />
          <button type="submit" disabled={busy() || !events().length}>
            Add endpoint
          </button>
        </div>
        <fieldset class="row wrap">
          <legend class="small">Events</legend>
          <For each={WEBHOOK_EVENT_TYPES}>
            {(type) => (
              <label class="check">
                <input
                  type="checkbox"
                  checked={events().includes(type)}
                  onChange={(e) => toggle(type, e.currentTarget.checked)}
                />{" "}
                <code>{type}</code>
              </label>
            )}
          </For>
        </fieldset>
      </form>
      <Show when={problem()}>
        <p id="webhook-problem" class="field-error" role="alert" data-testid="webhook-problem">
          {problem()}
        </p>
      </Show>
      <Show when={created()} keyed>
        {(hook) => (
          <div class="new-share" data-testid="webhook-secret">
            <label for="webhook-secret" class="small">
              Signing secret for {hook.url}. It is shown only now: keep it where your receiver can read it.
            </label>
            <input
              id="webhook-secret"
              class="mono grow"
              type="text"
              readOnly
              value={hook.secret ?? ""}
              onFocus={(e) => e.currentTarget.select()}
            />
          </div>
        )}
      </Show>
      <Show when={list.error as Error | undefined}>
        {(err) => (
          <p class="error" role="alert">
            Could not list the webhooks: {err().message}
          </p>
        )}
      </Show>
      <Show when={hooks().length} fallback={<p class="muted small">No webhooks yet.</p>}>
        <ul class="webhook-list" data-testid="webhook-list">
          <For each={hooks()}>
            {(hook) => (
              <li data-webhook-id={hook.id}>
                <div class="row">
                  <span class="grow mono" data-testid="webhook-url">
                    {hook.url}
                  </span>
                  <span class="muted small">{hook.events.join(", ")}</span>
                  <button
                    type="button"
                    aria-expanded={open() === hook.id}
                    onClick={() => setOpen(open() === hook.id ? null : hook.id)}
                  >
                    Deliveries
                  </button>
                  <button
                    type="button"
                    class="danger"
                    aria-label={`Remove the webhook to ${hook.url}`}
                    onClick={() => void remove(hook.id)}
                  >
                    Remove
                  </button>
                </div>
                <Show when={open() === hook.id}>
                  <Deliveries webhookId={hook.id} />
                </Show>
              </li>
            )}
          </For>
        </ul>
      </Show>
    </section>
  );
}

/** One endpoint's deliveries, newest first: status, attempts, the last answer; send one again. */
function Deliveries(props: { webhookId: string }) {
  const [list, { mutate, refetch }] = createResource(() => props.webhookId, api.deliveries);
  const [problem, setProblem] = createSignal<string | null>(null);
  const rows = () => (list.error ? [] : (list.latest?.deliveries ?? []));

  async function again(d: Delivery) {
    setProblem(null);
    try {
      const after = await api.redeliver(props.webhookId, d.id);
      mutate((l) => l && { deliveries: l.deliveries.map((x) => (x.id === d.id ? after : x)) });
    } catch (err) {
      setProblem((err as Error).message);
    }
  }

  return (
    <div class="deliveries" data-testid="deliveries">
      <div class="row">
        <span class="grow small muted">Newest first; attempts retry with backoff for a day.</span>
        <button type="button" onClick={() => void refetch()}>
          Refresh
        </button>
      </div>
      <Show when={problem() ?? (list.error as Error | undefined)?.message}>
        {(message) => (
          <p class="error" role="alert">
            {message()}
          </p>
        )}
      </Show>
      <Show when={rows().length} fallback={<p class="muted small">No deliveries yet.</p>}>
        <table class="small-table">
          <caption class="sr-only">Deliveries</caption>
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col">Job</th>
              <th scope="col">State</th>
              <th scope="col">Attempts</th>
              <th scope="col">Last answer</th>
              <th scope="col">
                <span class="sr-only">Action</span>
              </th>
            </tr>
          </thead>
          <tbody>
            <For each={rows()}>
              {(d) => (
                <tr data-delivery-id={d.id}>
                  <td>
                    <code>{d.type}</code>
                  </td>
                  <td class="mono small">
                    <a href={jobPath(d.jobId)} onClick={onNavClick}>
                      {d.jobId}
                    </a>
                  </td>
                  <td data-testid="delivery-state">
                    {d.status === "failed" ? "failed (dead-lettered)" : d.status}
                    <Show when={d.nextAttemptAt}>
                      {(at) => <span class="muted small"> · next at {new Date(at()).toLocaleTimeString()}</span>}
                    </Show>
                  </td>
                  <td class="num" data-testid="delivery-attempts">
                    {d.attempts.length}
                  </td>
                  <td class="small">{lastAnswer(d)}</td>
                  <td class="r">
                    <Show when={d.status !== "pending"}>
                      <button type="button" onClick={() => void again(d)}>
                        Send again
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

function lastAnswer(d: Delivery): string {
  const last = d.attempts.at(-1);
  if (!last) return "—";
  if (!last.error) return `${last.status} in ${Math.round(last.ms)} ms`;
  return last.error;
}
