/** Structured JSON-lines logger: every line carries the context (jobId, event, chunk) it was made with. */
export type LogFields = Record<string, unknown>;

export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

type Sink = (line: string) => void;

let sink: Sink = (line) => process.stderr.write(line + "\n");
/** Send log lines elsewhere (the CLI keeps the terminal for its progress bar). */
export function setLogSink(next: Sink): void {
  sink = next;
}

/** Write one preformatted JSON line to the current sink (metrics use it: their shape is fixed). */
export function writeLogLine(line: string): void {
  sink(line);
}

export function createLogger(context: LogFields = {}): Logger {
  const write = (level: string, msg: string, fields?: LogFields) => {
    const err = fields?.err instanceof Error ? { err: fields.err.message } : {};
    sink(JSON.stringify({ time: new Date().toISOString(), level, msg, ...context, ...fields, ...err }));
  };
  return {
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    child: (fields) => createLogger({ ...context, ...fields }),
  };
}
