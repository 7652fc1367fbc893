import { storedFormats } from "../media/formats.ts";
import { makeEvent, toMegabytes, type EventDetail } from "@videoforge/events";
import type { JobItem } from "../db/index.ts";
import { putMetric } from "../metrics.ts";
import { announceAssembled } from "../output/assemble.ts";
import { failJob } from "./lifecycle.ts";
import { announceIfWhole } from "../chunk/track.ts";
import type { Deps } from "../deps.ts";

/** Re-drives of one job before the sweeper gives up on it and fails it with the reason. */
export const MAX_REDRIVES = 3;

type Stage = EventDetail<"JobFailed">["stage"];
const stageOf: Record<string, Stage> = {
  UPLOADING: "upload",
  QUEUED: "chunking",
  CHUNKING: "chunking",
  ENCODING: "encoding",
  ASSEMBLING: "assembly",
};

export interface SweepOptions {
  /** Jobs whose stage deadline passed by then are swept (the sparse index's sort key). */
  now: number;
  /**
   * After a restart of the local cloud: every active job counts as stalled (nothing of the
   * old process drives it any more) except uploads, which keep their own deadline.
   */
  all?: boolean;
  /** Jobs a pending delivery will move on (the local journal): left alone. */
  isDriven?: (jobId: string) => boolean;
}

export interface SweepReport {
  examined: number;
  redriven: { jobId: string; status: string; action: string }[];
  failed: { jobId: string; status: string; reason: string }[];
}

/**
 * One sweeper for every runtime (the local cloud at start and periodically, a scheduled
 * Lambda on AWS): the active jobs that stopped moving, read from the sparse index of active
 * jobs (no Scan), are re-driven from their stored state, or failed with a reason when they
 * were re-driven too often. Every step is idempotent, so re-driving a job that was only slow
 * costs work, never correctness.
 *
 * - UPLOADING past its deadline: the upload was abandoned; it is aborted in storage and the job CANCELLED.
 * - QUEUED / CHUNKING → VideoUploaded again (the chunker starts over on the stored plan).
 * - ENCODING with every chunk in the set → ChunksEncoded; otherwise back to CHUNKING and
 *   VideoUploaded: the chunker re-announces every chunk and encoders skip the encoded ones.
 * - ASSEMBLING → VideoAssembled from the stored record, or ChunksEncoded to assemble again.
 */
export async function sweepStalledJobs(deps: Deps, opts: SweepOptions): Promise<SweepReport> {
  const realNow = Date.now();
  const due = await deps.jobs.listOverdueJobs(opts.all ? Number.MAX_SAFE_INTEGER : opts.now, 1000);
  const report: SweepReport = { examined: due.length, redriven: [], failed: [] };
  for (const job of due) {
    if (opts.isDriven?.(job.jobId)) continue;
    if (job.status === "UPLOADING" && (job.sweepAt ?? Infinity) > (opts.all ? realNow : opts.now)) continue;
    try {
      await sweepOne(deps, job, report, opts.all ? realNow : opts.now);
    } catch (err) {
      // one job's trouble must not stop the sweep of the others; the next sweep tries it again
      deps.log.error("sweep of a job failed", { jobId: job.jobId, status: job.status, err });
    }
  }
  if (report.redriven.length)
    putMetric("SweeperRedrives", report.redriven.length, { jobs: report.redriven.map((r) => r.jobId).slice(0, 20) });
  if (report.redriven.length || report.failed.length)
    deps.log.info("swept stalled jobs", { redriven: report.redriven.length, failed: report.failed.length });
  return report;
}

async function sweepOne(deps: Deps, job: JobItem, report: SweepReport, now: number): Promise<void> {
  const { jobId, status } = job;
  if (status === "UPLOADING") return abandonUpload(deps, job, report);
  if ((job.redrives ?? 0) >= MAX_REDRIVES) {
    const reason =
      `The job stopped moving while ${status.toLowerCase()} and was re-driven ${job.redrives} times ` +
      "without finishing; it was failed so it does not run forever. Retry it with POST /jobs/:id/retry.";
    await failJob(deps, jobId, stageOf[status] ?? "encoding", reason);
    report.failed.push({ jobId, status, reason });
    return;
  }
  let action: string;
  switch (status) {
    case "QUEUED":
    case "CHUNKING":
      if (!(await deps.jobs.noteRedrive(jobId, status, now))) return;
      await deps.events.publish(uploaded(job));
      action = "chunk again";
      break;
    case "ENCODING": {
      if (!(await deps.jobs.noteRedrive(jobId, status, now))) return;
      if (await announceIfWhole(deps, job)) {
        action = "assemble";
        break;
      }
      // without a chunk count the tracker cannot complete the set while chunks are re-announced;
      // the chunker's last write restores it and announces ChunksEncoded if the set is whole
      const moved = await deps.jobs.transition(jobId, "CHUNKING", ["ENCODING"], { remove: ["chunkCount"] });
      if (!moved) return;
      await deps.events.publish(uploaded(job));
      action = "announce missing chunks";
      break;
    }
    case "ASSEMBLING":
      if (!(await deps.jobs.noteRedrive(jobId, status, now))) return;
      if (await announceAssembled(deps, job)) action = "finish";
      else {
        await deps.events.publish(
          makeEvent("ChunksEncoded", {
            jobId,
            chunkCount: job.chunkCount ?? 0,
            sourceMegabytes: toMegabytes(job.sourceSize ?? 0),
          }),
        );
        action = "assemble again";
      }
      break;
    default:
      return;
  }
  deps.log.info("job re-driven", { jobId, status, action, redrives: (job.redrives ?? 0) + 1 });
  report.redriven.push({ jobId, status, action });
}

/** An upload never completed within its deadline: abort it in storage and cancel its job. */
async function abandonUpload(deps: Deps, job: JobItem, report: SweepReport): Promise<void> {
  const upload = job.uploadId ? await deps.jobs.getUpload(job.uploadId) : null;
  if (upload && (await deps.jobs.setUploadStatus(upload.uploadId, "OPEN", "ABORTED"))) {
    await deps.store.abortMultipart(upload.bucket, upload.key, upload.s3UploadId).catch((err: unknown) =>
      deps.log.warn("abort of an abandoned upload failed; storage's lifecycle rule aborts it later", {
        jobId: job.jobId,
        err,
      }),
    );
  }
  const hours = Math.round(((job.sweepAt ?? Date.now()) - job.createdAt) / 3_600_000);
  const reason =
    `Cancelled by the sweeper: the upload was not completed within ${hours} h, so it was aborted. ` +
    "Upload the file again.";
  const moved = await deps.jobs.transition(job.jobId, "CANCELLED", ["UPLOADING"], {
    set: { errorReason: reason, errorStage: "upload" },
  });
  if (!moved) return;
  await deps.events.publish(makeEvent("JobCancelled", { jobId: job.jobId, by: "sweeper (upload abandoned)" }));
  report.failed.push({ jobId: job.jobId, status: "UPLOADING", reason });
}

function uploaded(job: JobItem) {
  const size = job.sourceSize ?? 0;
  return makeEvent("VideoUploaded", {
    jobId: job.jobId,
    owner: job.owner,
    source: {
      bucket: job.sourceBucket!,
      key: job.sourceKey!,
      size,
      megabytes: toMegabytes(size),
      name: job.sourceName,
    },
    ladder: job.ladder,
    formats: storedFormats(job.formats),
  });
}
