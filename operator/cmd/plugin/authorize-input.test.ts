import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { listenForCallback } from './authorize-callback.ts';
import { browserCommand, readVerifier } from './authorize-input.ts';

describe('the pasted verification code', () => {
  it('is the first non-empty line, trimmed', async () => {
    const input = new PassThrough();
    const code = readVerifier(input, 5000);
    input.write('\n  \n  abc-123  \nignored\n');
    await expect(code).resolves.toBe('abc-123');
  });

  it('is an error when stdin ends without one', async () => {
    const input = new PassThrough();
    const code = readVerifier(input, 5000);
    input.end('\n');
    await expect(code).rejects.toThrow('stdin ended without a verification code');
  });

  it('is an error when none comes within the timeout', async () => {
    await expect(readVerifier(new PassThrough(), 50)).rejects.toThrow('no verification code on stdin within 0 s');
  });
});

describe('the browser', () => {
  it.each([
    ['is opened with open on macOS', 'darwin', {}, 'open'],
    ['is opened with xdg-open on a Linux desktop', 'linux', { DISPLAY: ':0' }, 'xdg-open'],
    ['is opened with xdg-open under Wayland', 'linux', { WAYLAND_DISPLAY: 'wayland-0' }, 'xdg-open'],
    ['is not looked for on a Linux machine without a display (ssh, CI)', 'linux', {}, undefined],
    ['is not looked for on Windows (the URL is printed)', 'win32', {}, undefined],
  ] as const)('%s', (_n, platform, env, expected) => {
    expect(browserCommand(platform, env)).toBe(expected);
  });
});

describe('the local callback', () => {
  it('listens on 127.0.0.1, ignores another request’s callback and settles on its own', async () => {
    const listener = await listenForCallback();
    try {
      expect(listener.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/oscar-authorize\/callback$/);
      const verifier = listener.verifier('rt', 5000);
      expect((await fetch(`${listener.url}?oauth_token=other&oauth_verifier=x`)).status).toBe(400);
      const ok = await fetch(`${listener.url}?oauth_token=rt&oauth_verifier=v1`);
      expect(ok.status).toBe(200);
      await expect(verifier).resolves.toBe('v1');
      expect((await fetch(`${listener.url}?oauth_token=rt&oauth_verifier=v2`)).status).toBe(409);
    } finally {
      await listener.close();
    }
  });

  it('reports a cancelled authorization and a callback that never comes', async () => {
    const listener = await listenForCallback();
    try {
      const cancelled = expect(listener.verifier('rt', 5000)).rejects.toThrow('cancelled the authorization');
      await fetch(`${listener.url}?oauth_token=rt`);
      await cancelled;
      await expect(listener.verifier('rt2', 50)).rejects.toThrow('no callback from OSCAR within 0 s');
    } finally {
      await listener.close();
    }
  });
});
