import { once } from "node:events";
import { createHash, randomBytes } from "node:crypto";
import { createServer, request, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import dynalite from "dynalite";
import S3rver from "s3rver";
import { LOCAL_KEY_VARIABLES } from "@videoforge/core";
import { startS3Gate, type S3Gate, type StorageFaults } from "./s3-gate.ts";
import { verifySigV4 } from "./sigv4.ts";

/**
 * The local stand-ins for DynamoDB and S3, closed to everyone but the project: dynalite and
 * s3rver listen only on Unix sockets in a private (0700) directory, and the only TCP ports are
 * two gates that verify each request's SigV4 signature against a key pair made at random for
 * the data directory. The project's SDK clients and presigned URLs sign with that pair; any
 * other local process or web page gets 403.
 */

export interface LocalKeys {
  accessKeyId: string;
  secretAccessKey: string;
}

const KEYS_FILE = "gate-keys.json";
const KeysFile = z.object({ accessKeyId: z.string().regex(/^VF[A-Z0-9]{18}$/), secretAccessKey: z.string().min(32) });

/**
 * The data directory's gate key pair (`gate-keys.json`, 0600), made on first use. It lives
 * with the data it opens: another data directory, another pair.
 */
export async function localKeys(dataDir: string): Promise<LocalKeys> {
  const file = join(dataDir, KEYS_FILE);
  const existing = await readFile(file, "utf8").then(
    (text) => KeysFile.parse(JSON.parse(text)),
    (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return null;
      throw err;
    },
  );
  if (existing) return existing;
  const keys = {
    accessKeyId: `VF${randomBytes(12).toString("hex").toUpperCase().slice(0, 18)}`,
    secretAccessKey: randomBytes(30).toString("base64url"),
  };
  await writeFile(file, JSON.stringify(keys) + "\n", { mode: 0o600, flag: "wx" }).catch(
    async (err: NodeJS.ErrnoException) => {
      // another process made it first: use theirs
      if (err.code !== "EEXIST") throw err;
    },
  );
  await chmod(file, 0o600);
  return KeysFile.parse(JSON.parse(await readFile(file, "utf8")));
}

/**
 * The data directory private to its owner (0700) and everything written from here on 0600/0700:
 * the umask is set for this process and the workers it starts (they inherit it).
 */
export async function secureDataDir(dataDir: string): Promise<void> {
  try {
    process.umask(0o077);
  } catch {
    // a worker thread cannot set the umask; the 0700 directory still closes everything under it
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await chmod(dataDir, 0o700);
}

/** DynamoDB API on LevelDB under `dir`, on a Unix socket; survives restarts. */
export async function startDynalite(dir: string, socketPath: string) {
  await mkdir(dir, { recursive: true });
  const server = dynalite({ path: dir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  server.listen(socketPath);
  await once(server, "listening");
  return { socketPath, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** S3 API on the filesystem under `dir`, with the given buckets, on a Unix socket; survives restarts. */
export async function startS3rver(dir: string, buckets: string[], socketPath: string) {
  await mkdir(dir, { recursive: true });
  // no bucket CORS rules: browsers are answered by the gate, for the dashboard's origin only
  const s3 = new S3rver({
    directory: dir,
    silent: true,
    vhostBuckets: false,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  await s3.configureBuckets();
  // run() would listen on TCP; s3rver's listen() takes the socket path like any http.Server
  s3.httpServer = await s3.listen(socketPath);
  return { socketPath, stop: () => s3.close() };
}

/** Largest DynamoDB request body (BatchWriteItem tops out at 16 MB). */
const DYNAMO_BODY_MAX = 16 * 1024 * 1024;

/**
 * The local DynamoDB endpoint: reads the body, checks the request's SigV4 signature over it
 * (dynalite checks none), and only then passes it to dynalite's socket. No CORS: no browser
 * has any business here.
 */
export async function startDynamoGate(socketPath: string, credentials: Record<string, string>) {
  const deny = (res: import("node:http").ServerResponse, type: string, message: string) => {
    res.writeHead(403, { "content-type": "application/x-amz-json-1.0" });
    res.end(JSON.stringify({ __type: `com.amazon.coral.service#${type}`, message }));
  };
  const server = createServer((req: IncomingMessage, res) => {
    if (req.method !== "POST") {
      req.resume();
      return deny(res, "AccessDeniedException", "Only signed POST requests are accepted.");
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > DYNAMO_BODY_MAX) return req.destroy();
      chunks.push(chunk);
    });
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const payloadHash = createHash("sha256").update(body).digest("hex");
      const verdict = verifySigV4(
        { method: "POST", url: req.url ?? "/", headers: req.headers },
        (id) => credentials[id],
        Date.now(),
        { payloadHash },
      );
      if (!verdict.ok)
        return deny(
          res,
          verdict.code === "InvalidAccessKeyId" ? "UnrecognizedClientException" : "InvalidSignatureException",
          verdict.message,
        );
      const { origin: _origin, ...headers } = req.headers;
      const out = request(
        {
          socketPath,
          method: "POST",
          path: verdict.query ? `${verdict.path}?${verdict.query}` : verdict.path,
          headers,
        },
        (up) => {
          const passed = Object.fromEntries(
            Object.entries(up.headers).filter(([k]) => !k.toLowerCase().startsWith("access-control-")),
          );
          res.writeHead(up.statusCode ?? 502, passed);
          up.pipe(res);
        },
      );
      out.on("error", () => res.destroy());
      out.end(body);
    });
    req.on("error", () => res.destroy());
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface LocalServices {
  dynamodb: { endpoint: string };
  storage: S3Gate;
  keys: LocalKeys;
  /** What every process of the local cloud needs to sign its requests. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * dynalite and s3rver behind their gates, with the data directory's key pair: the one way the
 * local cloud starts its storage.
 */
export async function startLocalServices(opts: {
  dataDir: string;
  buckets: string[];
  storageFaults?: StorageFaults;
}): Promise<LocalServices> {
  await secureDataDir(opts.dataDir);
  const keys = await localKeys(opts.dataDir);
  // a short private path: Unix socket paths are limited to ~100 bytes, data directories are not
  const sockets = await mkdtemp(join(tmpdir(), "vf-"));
  await chmod(sockets, 0o700);
  const [db, s3] = await Promise.all([
    startDynalite(join(opts.dataDir, "dynamodb"), join(sockets, "dynamodb.sock")),
    startS3rver(join(opts.dataDir, "s3"), opts.buckets, join(sockets, "s3.sock")),
  ]);
  const accepted = { [keys.accessKeyId]: keys.secretAccessKey };
  const [dynamoGate, storage] = await Promise.all([
    startDynamoGate(db.socketPath, accepted),
    startS3Gate({ socketPath: s3.socketPath }, accepted, opts.storageFaults),
  ]);
  return {
    dynamodb: { endpoint: dynamoGate.endpoint },
    storage,
    keys,
    env: {
      [LOCAL_KEY_VARIABLES.accessKeyId]: keys.accessKeyId,
      [LOCAL_KEY_VARIABLES.secretAccessKey]: keys.secretAccessKey,
    },
    async stop() {
      await Promise.all([dynamoGate.stop(), storage.stop()]);
      await Promise.all([s3.stop(), db.stop()]);
      await rm(sockets, { recursive: true, force: true });
    },
  };
}
