import type { JobStatus } from "../api.ts";

/** The job's status as a word with a colour; the word alone carries the meaning. */
export function StatusBadge(props: { status: JobStatus }) {
  return (
    <span class={`badge s-${props.status.toLowerCase()}`} data-testid="status">
      {props.status}
    </span>
  );
}
