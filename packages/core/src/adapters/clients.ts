import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import type { Config } from "../config.ts";

/** SDK clients for the configured endpoints: real AWS when none is set, the local cloud otherwise. */
export function createClients(cfg: Config) {
  // without a socket idle timeout a stalled read (a dead connection mid-body) would hang a worker forever
  const requestHandler = { connectionTimeout: 10_000, requestTimeout: cfg.storageTimeoutMs };
  const base = { region: cfg.region, requestHandler, ...(cfg.credentials ? { credentials: cfg.credentials } : {}) };
  const dynamodb = new DynamoDBClient({ ...base, endpoint: cfg.endpoints.dynamodb });
  return {
    dynamodb,
    document: DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } }),
    // s3rver serves buckets as paths, not subdomains
    // plain payloads, not aws-chunked with trailing checksums: s3rver stores those frames verbatim
    s3: new S3Client({
      ...base,
      endpoint: cfg.endpoints.s3,
      forcePathStyle: Boolean(cfg.endpoints.s3),
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    }),
    events: new EventBridgeClient({ ...base, endpoint: cfg.endpoints.events }),
  };
}
export type Clients = ReturnType<typeof createClients>;
