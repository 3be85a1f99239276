// Typed environment variables. Each program reads all of its variables in one place through an
// EnvReader: every helper returns a typed value (the default when the variable is unset or empty)
// and records a problem when the text is not acceptable, so that one error at start-up names every
// bad variable at once ("WORKERS must be an integer from 1 to 1000 (got WORKERS="abc")") instead of a
// NaN or a silent fallback surfacing later. No library we depend on does this with messages that
// name the variable (TypeBox's Value.Convert/Errors speaks of JSON paths and types), hence this kit.
import { parseDuration } from './duration.ts';

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Every problem with the environment; the message joins them and then quotes the values refused.
 * The values come after the list, not inside each problem, so that each problem keeps the wording the
 * programs used before this kit ("RELAY_PORT must be an integer from 0 to 65535; RELAY_CONCURRENCY …").
 */
export class EnvError extends Error {
  readonly problems: readonly string[];
  /** `context` starts the message: "invalid operator configuration: WORKERS must be …". */
  constructor(problems: readonly string[], given: readonly string[], context?: string) {
    const list = `${problems.join('; ')}${given.length > 0 ? ` (got ${given.join(', ')})` : ''}`;
    super(context ? `${context}: ${list}` : list);
    this.name = 'EnvError';
    this.problems = problems;
  }
}

/** Log levels of winston's npm set (the logger's). */
export const LOG_LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

interface Text {
  /** Trim surrounding white space first (a whitespace-only value is then unset). */
  trim?: boolean;
}

export interface StringOptions extends Text {
  /** The test a set value must pass, and what it must be ("digits"), for the message. */
  valid?: { test: (text: string) => boolean; expected: string };
}

export interface IntOptions {
  default: number;
  min: number;
  max?: number;
}

export interface NumberOptions {
  /** Exclusive lower bound. */
  above: number;
  max: number;
  /** What the number means, added to the message. */
  meaning?: string;
}

/** Reads variables, collecting problems; `check()` throws one EnvError naming all of them. */
export class EnvReader {
  private readonly env: Env;
  private readonly problems: string[] = [];
  private readonly given: string[] = [];

  constructor(env: Env) {
    this.env = env;
  }

  /** The text of a variable; undefined when it is unset or empty (an empty value means "not set"). */
  text(name: string, options: Text = {}): string | undefined {
    const raw = this.env[name];
    const text = options.trim ? raw?.trim() : raw;
    return text === undefined || text === '' ? undefined : text;
  }

  /** Records a problem. With `value`, the refused text is quoted at the end of the error. */
  problem(message: string, name?: string, value?: string): void {
    this.problems.push(message);
    if (name !== undefined && value !== undefined) this.given.push(`${name}=${JSON.stringify(value.slice(0, 80))}`);
  }

  /** A set variable ("NAME is not set" otherwise), checked when `valid` is given. */
  required(name: string, options: StringOptions = {}): string {
    const text = this.text(name, options);
    if (text === undefined) {
      this.problem(`${name} is not set`);
      return '';
    }
    return this.validated(name, text, options) ?? '';
  }

  /** An optional variable: its text, or `fallback` when unset (also when refused). */
  string(name: string, fallback: string, options?: StringOptions): string;
  string(name: string, fallback?: undefined, options?: StringOptions): string | undefined;
  string(name: string, fallback?: string, options: StringOptions = {}): string | undefined {
    const text = this.text(name, options);
    return text === undefined ? fallback : (this.validated(name, text, options) ?? fallback);
  }

  /** An integer within [min, max]. */
  int(name: string, options: IntOptions): number {
    const text = this.text(name);
    if (text === undefined) return options.default;
    const value = Number(text);
    const { min, max } = options;
    if (text.trim() !== '' && Number.isInteger(value) && value >= min && (max === undefined || value <= max)) return value;
    const range = max === undefined ? `of at least ${min}` : `from ${min} to ${max}`;
    this.problem(`${name} must be an integer ${range}`, name, text);
    return options.default;
  }

  /** A finite number above `above` and at most `max`; undefined when unset. */
  number(name: string, options: NumberOptions): number | undefined {
    const text = this.text(name);
    if (text === undefined) return undefined;
    const value = Number(text);
    if (text.trim() !== '' && Number.isFinite(value) && value > options.above && value <= options.max) return value;
    const meaning = options.meaning ? ` (${options.meaning})` : '';
    this.problem(`${name} must be a number above ${options.above} and at most ${options.max}${meaning}`, name, text);
    return undefined;
  }

  /** A Go duration (`30s`, `15m`, `1h30m`) in milliseconds, at least `min` milliseconds. */
  duration(name: string, options: { default: number; min?: number }): number {
    const text = this.text(name);
    if (text === undefined) return options.default;
    let ms: number | undefined;
    try {
      ms = parseDuration(text);
    } catch {
      ms = undefined;
    }
    if (ms !== undefined && ms >= (options.min ?? 0)) return ms;
    const floor = options.min ? `, at least ${formatDuration(options.min)}` : '';
    this.problem(`${name} must be a duration such as 30s or 15m${floor}`, name, text);
    return options.default;
  }

  /** `true` or `false` (exactly; anything else is refused rather than read as one of them). */
  bool(name: string, options: { default: boolean }): boolean {
    const text = this.text(name);
    if (text === undefined) return options.default;
    if (text === 'true' || text === 'false') return text === 'true';
    this.problem(`${name} must be true or false`, name, text);
    return options.default;
  }

  /** One of a fixed set of words. */
  oneOf<const T extends string>(name: string, values: readonly T[], options: { default: T }): T {
    const text = this.text(name);
    if (text === undefined) return options.default;
    if ((values as readonly string[]).includes(text)) return text as T;
    this.problem(`${name} must be one of ${values.join(', ')}`, name, text);
    return options.default;
  }

  /** An http(s) URL. */
  url(name: string, fallback: string): string {
    return this.string(name, fallback, { valid: HTTP_URL });
  }

  /** `host:port` or `:port` to listen on (an empty host is every interface); `port` alone too with `portAlone`. */
  listenAddress(name: string, fallback: string, options: { portAlone?: boolean } = {}): string {
    return this.string(name, fallback, { valid: options.portAlone ? LISTEN_PORT : LISTEN_ADDRESS });
  }

  /** An ISO 8601 time in milliseconds since the epoch; undefined when unset. */
  time(name: string): number | undefined {
    const text = this.text(name);
    if (text === undefined) return undefined;
    const ms = Date.parse(text);
    if (!Number.isNaN(ms)) return ms;
    this.problem(`${name} must be an ISO 8601 time`, name, text);
    return undefined;
  }

  /**
   * Throws an EnvError naming every problem, its message started by `context`, or the error `wrap`
   * makes of it (a program's own error type); returns when there was none.
   */
  check(options: { context?: string; wrap?: (error: EnvError) => Error } = {}): void {
    if (this.problems.length === 0) return;
    const error = new EnvError(this.problems, this.given, options.context);
    throw options.wrap ? options.wrap(error) : error;
  }

  /** As check(), then `value`, which a reader leaves undefined only when it recorded a problem. */
  done<T>(value: T | undefined, options: { context?: string; wrap?: (error: EnvError) => Error } = {}): T {
    this.check(options);
    if (value === undefined) throw new Error('the configuration is incomplete, yet no problem was recorded');
    return value;
  }

  private validated(name: string, text: string, options: StringOptions): string | undefined {
    if (!options.valid || options.valid.test(text)) return text;
    this.problem(`${name} must be ${options.valid.expected}`, name, text);
    return undefined;
  }
}

export const HTTP_URL = {
  test: (text: string) => {
    if (!URL.canParse(text)) return false;
    const { protocol, host } = new URL(text);
    return (protocol === 'http:' || protocol === 'https:') && host !== '';
  },
  expected: 'an http(s) URL',
};

/** A Kubernetes DNS label (a namespace name) and DNS subdomain (most object names). */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

const isPort = (text: string) => /^\d{1,5}$/.test(text) && Number(text) <= 65535;

const LISTEN_ADDRESS = {
  test: (text: string) => text.includes(':') && isPort(text.slice(text.lastIndexOf(':') + 1)),
  expected: 'host:port (port 0 to 65535)',
};

const LISTEN_PORT = {
  test: (text: string) => isPort(text.slice(text.lastIndexOf(':') + 1)),
  expected: 'host:port or a port (0 to 65535)',
};

/** Milliseconds as the shortest Go duration of whole units (`1s`, `15m`, `250ms`). */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const)
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}
