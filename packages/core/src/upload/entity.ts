import { Entity } from "electrodb";
import { UPLOAD_STATUSES } from "../job/status.ts";

/** A multipart upload in progress: which S3 upload backs it and which job it will start. */
export const UploadEntity = new Entity({
  model: { entity: "upload", version: "1", service: "videoforge" },
  attributes: {
    uploadId: { type: "string", required: true },
    jobId: { type: "string", required: true },
    owner: { type: "string", required: true },
    bucket: { type: "string", required: true },
    key: { type: "string", required: true },
    s3UploadId: { type: "string", required: true },
    name: { type: "string", required: true },
    size: { type: "number", required: true },
    partSize: { type: "number", required: true },
    ladder: { type: "list", items: { type: "string" }, required: true },
    formats: { type: "list", items: { type: "string" } },
    status: { type: UPLOAD_STATUSES, required: true },
    createdAt: { type: "number", required: true },
  },
  indexes: {
    byId: {
      pk: { field: "pk", composite: ["uploadId"] },
      sk: { field: "sk", composite: [] },
    },
  },
});
