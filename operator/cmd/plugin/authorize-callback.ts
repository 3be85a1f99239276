// The local callback of `kubectl cloudconnect authorize`: an HTTP listener on 127.0.0.1 at a random
// port, for the one redirect OSCAR sends the EMR administrator's browser to after "Authorize", with
// oauth_token and oauth_verifier. Only loopback can reach it; a request for another oauth_token is
// answered and ignored; the first matching one settles it (verifier, or the cancellation); nothing
// of the query is printed.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuthorizeError, callbackVerifier } from './authorize-plan.ts';

const CALLBACK_PATH = '/oscar-authorize/callback';

export interface CallbackListener {
  /** The oauth_callback to register with the request token. */
  readonly url: string;
  /** The verifier, once OSCAR's redirect arrives for `requestToken`; rejects on cancellation or after `timeoutMs`. */
  verifier(requestToken: string, timeoutMs: number): Promise<string>;
  close(): Promise<void>;
}

function page(res: ServerResponse, status: number, text: string): void {
  const body = `<!DOCTYPE html>\n<html><head><title>kubectl cloudconnect authorize</title></head><body><p>${text}</p></body></html>\n`;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

export async function listenForCallback(): Promise<CallbackListener> {
  let expected: string | undefined;
  let settle: ((outcome: { verifier: string } | { refused: string }) => void) | undefined;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method !== 'GET' || url.pathname !== CALLBACK_PATH) return page(res, 404, 'Not found.');
    if (!expected || !settle) return page(res, 409, 'This authorization is not waiting for a callback.');
    const outcome = callbackVerifier(url.searchParams, expected);
    if ('refused' in outcome && outcome.refused.startsWith('the callback is for another request'))
      return page(res, 400, 'This callback is for another authorization request; it was ignored.');
    settle(outcome);
    settle = undefined;
    if ('verifier' in outcome)
      return page(res, 200, 'OSCAR authorized Cloud Connect. You can close this window and return to the terminal.');
    return page(res, 200, 'The authorization was cancelled. You can close this window.');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${CALLBACK_PATH}`,
    verifier: (requestToken, timeoutMs) =>
      new Promise<string>((resolve, reject) => {
        expected = requestToken;
        const timer = setTimeout(() => {
          settle = undefined;
          reject(
            new AuthorizeError(
              `no callback from OSCAR within ${Math.round(timeoutMs / 1000)} s: nobody pressed "Authorize" on the page (run the command again, or raise --timeout)`,
            ),
          );
        }, timeoutMs);
        settle = (outcome) => {
          clearTimeout(timer);
          if ('verifier' in outcome) resolve(outcome.verifier);
          else reject(new AuthorizeError(outcome.refused));
        };
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
