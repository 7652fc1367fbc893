/**
 * Local S3 and DynamoDB: s3rver and dynalite on private sockets, behind gates that check SigV4 with the data
 * directory's key pair.
 */
export * from "./storage.ts";
export * from "./s3-gate.ts";
