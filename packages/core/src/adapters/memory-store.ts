import { randomUUID } from "node:crypto";
import type { ObjectStore } from "../ports.ts";

/**
 * Object storage in memory: object sizes and text bodies, no media (the steps' media work is
 * replaced by stand-ins in the unit tests that use it). Multipart uploads are tracked so
 * abandoned-upload tests can see an abort.
 */
export function memoryObjectStore() {
  const objects = new Map<string, { size: number; body?: string }>();
  const multiparts = new Map<
    string,
    { bucket: string; key: string; state: "open" | "completed" | "aborted"; size: number }
  >();
  const at = (bucket: string, key: string) => `${bucket}/${key}`;
  const store: ObjectStore = {
    async download(bucket, key) {
      if (!objects.has(at(bucket, key)))
        throw Object.assign(new Error(`NoSuchKey: ${bucket}/${key}`), { name: "NoSuchKey" });
    },
    async upload(bucket, key, _file) {
      const size = objects.get(at(bucket, key))?.size ?? 1;
      objects.set(at(bucket, key), { size });
      return { bytes: size };
    },
    async uploadStream(bucket, key, body) {
      let size = 0;
      for await (const chunk of body) size += (chunk as Buffer).length;
      objects.set(at(bucket, key), { size });
      return { bytes: size };
    },
    async putText(bucket, key, body) {
      objects.set(at(bucket, key), { size: Buffer.byteLength(body), body });
    },
    async head(bucket, key) {
      const o = objects.get(at(bucket, key));
      return o ? { size: o.size } : null;
    },
    async list(bucket, prefix) {
      return [...objects.entries()]
        .filter(([k]) => k.startsWith(at(bucket, prefix)))
        .map(([k, o]) => ({ key: k.slice(bucket.length + 1), size: o.size }));
    },
    async remove(bucket, keys) {
      for (const k of keys) objects.delete(at(bucket, k));
    },
    async presignGet(bucket, key) {
      return `memory://${bucket}/${key}`;
    },
    async createMultipart(bucket, key) {
      const id = randomUUID();
      multiparts.set(id, { bucket, key, state: "open", size: 0 });
      return id;
    },
    async presignPart(bucket, key, uploadId, partNumber) {
      return `memory://${bucket}/${key}?uploadId=${uploadId}&partNumber=${partNumber}`;
    },
    async completeMultipart(bucket, key, uploadId) {
      const m = multiparts.get(uploadId);
      if (!m || m.state === "aborted") throw Object.assign(new Error("NoSuchUpload"), { name: "NoSuchUpload" });
      m.state = "completed";
      objects.set(at(bucket, key), { size: m.size });
    },
    async abortMultipart(_bucket, _key, uploadId) {
      const m = multiparts.get(uploadId);
      if (m) m.state = "aborted";
    },
  };
  return {
    ...store,
    /** Test set-up: an object of `size` bytes. */
    put: (bucket: string, key: string, size: number) => void objects.set(at(bucket, key), { size }),
    /** Test set-up: the bytes a client has sent to a multipart upload so far. */
    sendParts: (uploadId: string, size: number) => void (multiparts.get(uploadId)!.size = size),
    multipart: (uploadId: string) => multiparts.get(uploadId),
    has: (bucket: string, key: string) => objects.has(at(bucket, key)),
  };
}
export type MemoryObjectStore = ReturnType<typeof memoryObjectStore>;
