/**
 * Logging: the `Logger` port and its pino adapter, which every runtime but Lambda uses (the local
 * cloud, its child processes, the worker task, the CLI, tests). The Lambda adapter, on Powertools
 * Logger, lives in packages/functions so that core never loads a Lambda-only package.
 *
 * Every line is one JSON object: `time` (ISO), `level` (a label: "debug" | "info" | "warn" |
 * "error"), `msg`, and the context (jobId, event, chunk, handler...) it was made with. An `err`
 * field that is an Error keeps its name, message, stack, code and causes.
 */
import { pino, type Logger as PinoLogger } from "pino";
import type { LogLevel } from "./config.ts";

export type LogFields = Record<string, unknown>;

/** The logging port: what domain code, handlers and compositions log through. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines also carry `fields` (a call's own fields win over them). */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  /** Least severe level written (compositions pass `config().logLevel`); default info. */
  level?: LogLevel;
}

/** An Error as a log field: what a reader needs to find where it failed and why. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: string | number;
  cause?: unknown;
  /** An AggregateError's errors (Node's connect failure to every address is one, with an empty message). */
  errors?: unknown[];
}

/** A cause chain longer than this is cut: a cycle (`a.cause = a`) must not loop. */
const MAX_CAUSE_DEPTH = 5;
const MAX_AGGREGATED = 5;

/** Shared by both adapters, so a failure reads the same locally and on AWS. */
export function serializeError(err: Error, depth = 0): SerializedError {
  const out: SerializedError = { name: err.name, message: err.message, stack: err.stack };
  const code: unknown = (err as { code?: unknown }).code;
  if (typeof code === "string" || typeof code === "number") out.code = code;
  const nested = (value: unknown) => (value instanceof Error ? serializeError(value, depth + 1) : value);
  if (err.cause !== undefined) out.cause = depth < MAX_CAUSE_DEPTH ? nested(err.cause) : "[cause chain cut]";
  if (err instanceof AggregateError && Array.isArray(err.errors) && depth < MAX_CAUSE_DEPTH) {
    out.errors = err.errors.slice(0, MAX_AGGREGATED).map(nested);
  }
  return out;
}

/** The `err` field's serializer: an Error in full, anything else as it is. */
export const serializeErrField = (value: unknown): unknown => (value instanceof Error ? serializeError(value) : value);

type Sink = (line: string) => void;

// a synchronous write on fd 2: a child process that logs and then exits at once loses no line
// (process.stderr is asynchronous on pipes on some platforms); opened on first use
let stderr: ReturnType<typeof pino.destination> | undefined;
const toStderr: Sink = (line) => {
  (stderr ??= pino.destination({ dest: 2, sync: true })).write(line + "\n");
};

let sink: Sink = toStderr;
/** Send log lines elsewhere (the CLI keeps the terminal for its progress bar); none: back to stderr. */
export function setLogSink(next: Sink = toStderr): void {
  sink = next;
}

/** Write one preformatted JSON line to the current sink (metrics use it: their shape is fixed). */
export function writeLogLine(line: string): void {
  sink(line);
}

// pino writes each line to this stream synchronously, inside the log call; the sink is read per
// line, so setLogSink also redirects loggers made before it
const sinkStream = { write: (chunk: string) => sink(chunk.endsWith("\n") ? chunk.slice(0, -1) : chunk) };

/** The pino adapter of the port. */
export function createLogger(context: LogFields = {}, opts: LoggerOptions = {}): Logger {
  const root = pino(
    {
      level: opts.level ?? "info",
      // no pid/hostname on every line: the context says where a line comes from
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: serializeErrField },
    },
    sinkStream,
  );
  return pinoAdapter(root, context);
}

function pinoAdapter(root: PinoLogger, context: LogFields): Logger {
  // the context is merged per line rather than bound with pino's child(): a field given again
  // replaces the context's value instead of appearing twice in one JSON object
  const at = (level: LogLevel) => (msg: string, fields?: LogFields) => {
    if (root.isLevelEnabled(level)) root[level]({ ...context, ...fields }, msg);
  };
  return {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: (fields) => pinoAdapter(root, { ...context, ...fields }),
  };
}
