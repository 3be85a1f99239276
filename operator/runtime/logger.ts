// Structured JSON logs (winston). Every entry goes through the redactor before it is formatted, so
// neither a careless message nor a whole object dumped into a log can carry a secret or PHI.
import winston from 'winston';
import { type Redactor, redactor } from './redact.ts';

const redactFormat = (r: Redactor) =>
  winston.format((info) => {
    const clean = r.value({ ...info }) as Record<string, unknown>;
    // level and timestamp are the logger's own: a short registered value must not blank them out.
    for (const own of ['level', 'timestamp'] as const) if (info[own] !== undefined) clean[own] = info[own];
    for (const key of Object.keys(info)) delete (info as Record<string, unknown>)[key];
    Object.assign(info, clean);
    // winston keeps level and message under symbols too; the message must be the redacted one.
    (info as Record<symbol, unknown>)[Symbol.for('message')] = undefined;
    return info;
  })();

export type Logger = winston.Logger;

/**
 * Drops an entry below the logger's level before anything is done with it: winston formats every
 * entry and leaves the level to its transports, so a debug line on a hot path (one per relayed
 * message) would otherwise be copied, redacted and serialized only to be thrown away.
 */
const levelGate = (enabled: (level: string) => boolean) => winston.format((info) => (enabled(info.level) ? info : false))();

export function createLogger(options: { level?: string; stream?: NodeJS.WritableStream; redactor?: Redactor } = {}): Logger {
  const transport = options.stream
    ? new winston.transports.Stream({ stream: options.stream })
    : new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] });
  const logger: Logger = winston.createLogger({
    level: options.level ?? 'info',
    format: winston.format.combine(
      levelGate((level) => logger.isLevelEnabled(level)),
      winston.format.timestamp(),
      redactFormat(options.redactor ?? redactor),
      winston.format.json(),
    ),
    transports: [transport],
  });
  return logger;
}
