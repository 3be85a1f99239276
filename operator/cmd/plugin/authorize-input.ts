// What `kubectl cloudconnect authorize` takes from the person: the verification code OSCAR shows
// for an `oob` request (--verifier-stdin: the first non-empty line of stdin, typed at a prompt or
// piped), and a browser opened at the authorize URL when this machine has one (never required:
// the URL is printed either way, and a failure to open it is ignored).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { AuthorizeError } from './authorize-plan.ts';

/** The first non-empty line of `input`, trimmed; an error at its end or after `timeoutMs`. */
export function readVerifier(input: Readable, timeoutMs: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input, terminal: false });
    let done = false;
    const finish = (error: Error | undefined, value = '') => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      lines.close();
      if (error) reject(error);
      else resolve(value);
    };
    const timer = setTimeout(
      () =>
        finish(
          new AuthorizeError(
            `no verification code on stdin within ${Math.round(timeoutMs / 1000)} s (run the command again, or raise --timeout)`,
          ),
        ),
      timeoutMs,
    );
    lines.on('line', (line) => {
      const value = line.trim();
      if (value !== '') finish(undefined, value);
    });
    lines.on('close', () => finish(new AuthorizeError('stdin ended without a verification code')));
  });
}

/** The command that opens a URL in this machine's browser, if there is one we know to look for. */
export function browserCommand(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): string | undefined {
  if (platform === 'darwin') return 'open';
  if (platform === 'linux' || platform === 'freebsd' || platform === 'openbsd')
    return env['DISPLAY'] || env['WAYLAND_DISPLAY'] ? 'xdg-open' : undefined;
  return undefined;
}

/** Best effort: opens `url` in the browser; true when a browser command was started. */
export function openBrowser(url: string, platform = process.platform, env = process.env): boolean {
  const command = browserCommand(platform, env);
  if (!command) return false;
  try {
    const child = spawn(command, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
    return true;
  } catch {
    return false;
  }
}
