import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import dynalite from "dynalite";
import S3rver from "s3rver";

const cors = `<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedMethod>HEAD</AllowedMethod><AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule></CORSConfiguration>`;

/** DynamoDB API on LevelDB under `dir`; survives restarts. */
export async function startDynalite(dir: string, port = 0) {
  await mkdir(dir, { recursive: true });
  const server = dynalite({ path: dir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
  const { port: bound } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${bound}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** S3 API on the filesystem under `dir`, with the given buckets; survives restarts. */
export async function startS3rver(dir: string, buckets: string[], port = 0) {
  await mkdir(dir, { recursive: true });
  const s3 = new S3rver({
    address: "127.0.0.1",
    port,
    directory: join(dir),
    silent: true,
    vhostBuckets: false,
    configureBuckets: buckets.map((name) => ({ name, configs: [cors] })),
  });
  const address = await s3.run();
  return { endpoint: `http://127.0.0.1:${address.port}`, stop: () => s3.close() };
}
