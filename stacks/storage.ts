import { LINK } from "@videoforge/core/config-sources";
import { isDevStage, isProd, LOCAL_DASHBOARD_URL } from "./config.ts";
import { dashboardUrl } from "./router.ts";

/** Only prod keeps its data when `sst remove` runs or a bucket leaves the config. */
const keepInProd = { retainOnDelete: isProd };
/** Browsers PUT upload parts from the dashboard only (the CLI sends no Origin). */
const dashboardOrigins = $resolve([dashboardUrl]).apply(([url]) => (isDevStage ? [url, LOCAL_DASHBOARD_URL] : [url]));

/**
 * Buckets. Uploads take browser multipart PUTs (presigned), so they expose ETag to CORS;
 * work holds intermediates (chunks, encoded pieces, audio) that a finished job no longer
 * needs; outputs are the product and never expire.
 */
const abortStaleMultipart = (args: aws.s3.BucketLifecycleConfigurationArgs) => {
  // an abandoned multipart upload is billed for its parts until aborted
  args.rules = $output(args.rules).apply((rules) => [
    ...(rules ?? []),
    {
      id: "abort-incomplete-multipart",
      status: "Enabled",
      filter: { prefix: "" },
      abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
    },
  ]);
  return undefined;
};

export const uploadsBucket = new sst.aws.Bucket(
  "UploadsBucket",
  {
    cors: {
      allowOrigins: dashboardOrigins,
      allowMethods: ["PUT", "GET", "HEAD"],
      allowHeaders: ["*"],
      exposeHeaders: ["ETag"],
      maxAge: "1 hour",
    },
    lifecycle: [{ id: "expire-sources", expiresIn: "30 days" }],
    transform: { lifecycle: abortStaleMultipart },
  },
  keepInProd,
);

export const workBucket = new sst.aws.Bucket(
  "WorkBucket",
  {
    lifecycle: [{ id: "expire-intermediates", expiresIn: "3 days" }],
    transform: { lifecycle: abortStaleMultipart },
  },
  keepInProd,
);

export const outputsBucket = new sst.aws.Bucket(
  "OutputsBucket",
  {
    // a placeholder rule only so the multipart clean-up below has a lifecycle to join
    lifecycle: [{ id: "keep-outputs", prefix: "never-expires/", enabled: false, expiresIn: "3650 days" }],
    transform: { lifecycle: abortStaleMultipart },
  },
  keepInProd,
);

/**
 * What code sees (`Resource.Uploads.name`…): names only. Permissions are granted per
 * function from stacks/access.ts instead of SST's bucket-wide `s3:*` link permission.
 */
export const uploads = new sst.Linkable(LINK.uploads, { properties: { name: uploadsBucket.name } });
export const work = new sst.Linkable(LINK.work, { properties: { name: workBucket.name } });
export const outputs = new sst.Linkable(LINK.outputs, { properties: { name: outputsBucket.name } });
