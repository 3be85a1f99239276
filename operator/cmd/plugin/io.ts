// What a command may touch of its surroundings: output, the clock and whether colour is wanted.
// main builds it from the process; tests build their own.
export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
  now(): Date;
  color: boolean;
  /** Whether stderr is a terminal: progress lines are rewritten in place only there. */
  interactive: boolean;
}

export function processIo(): CommandIo {
  const noColor = process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '';
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    now: () => new Date(),
    color: Boolean(process.stdout.isTTY) && !noColor && process.env.TERM !== 'dumb',
    interactive: Boolean(process.stderr.isTTY),
  };
}
