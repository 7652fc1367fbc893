import { LogFormatter, LogItem, Logger as PowertoolsLogger } from "@aws-lambda-powertools/logger";
import type { LogAttributes, UnformattedAttributes } from "@aws-lambda-powertools/logger/types";
import { serializeError, type LogFields, type Logger, type LogLevel } from "@videoforge/core";

/**
 * Powertools' lines in the shape the pino adapter writes (`time`, a lowercase `level`, `msg`,
 * then the context), so a query or a test reads a line the same from a Lambda and from the
 * local cloud. Powertools' own keys stay where they say something: the service, the request
 * id and cold start once a Lambda context is added, the X-Ray trace.
 */
class LineFormatter extends LogFormatter {
  override formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes): LogItem {
    const lambda = attributes.lambdaContext;
    const base: LogAttributes = {
      time: this.formatTimestamp(attributes.timestamp),
      level: attributes.logLevel.toLowerCase(),
      msg: attributes.message,
      service: attributes.serviceName,
      requestId: lambda?.awsRequestId,
      coldStart: lambda?.coldStart,
      xrayTraceId: attributes.xRayTraceId,
    };
    // empty keys (no Lambda context, no trace) are dropped by Powertools before printing
    return new LogItem({ attributes: base }).addAttributes(additional);
  }

  /** Powertools calls this for every Error in a line: the same shape as the pino adapter's `err`. */
  override formatError(error: Error): LogAttributes {
    return { ...serializeError(error) };
  }
}

export interface PowertoolsLoggerOptions {
  /** Least severe level written (`config().logLevel`); Lambda's own log level, when set, wins. */
  level?: LogLevel;
  serviceName?: string;
}

/**
 * The Lambda adapter of core's `Logger` port. Powertools writes through its own console (stdout,
 * warn and error on stderr), where Lambda collects it; setLogSink does not redirect these lines.
 */
export function powertoolsLogger(context: LogFields = {}, opts: PowertoolsLoggerOptions = {}): Logger {
  const root = new PowertoolsLogger({
    serviceName: opts.serviceName ?? "videoforge",
    logLevel: opts.level ?? "info",
    logFormatter: new LineFormatter(),
    persistentKeys: context,
  });
  return adapt(root);
}

function adapt(logger: PowertoolsLogger): Logger {
  return {
    debug: (msg, fields) => logger.debug(msg, fields ?? {}),
    info: (msg, fields) => logger.info(msg, fields ?? {}),
    warn: (msg, fields) => logger.warn(msg, fields ?? {}),
    error: (msg, fields) => logger.error(msg, fields ?? {}),
    child: (fields) => adapt(logger.createChild({ persistentKeys: fields })),
  };
}
