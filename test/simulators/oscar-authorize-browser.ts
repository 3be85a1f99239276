// Plays the clinic's EMR administrator in a browser on OSCAR's authorize page (oscar-authorize.ts):
// opens the authorize URL, reads the form as a browser would (its action and hidden fields), types the
// OceanConnect user's name, password and PIN, presses "Authorize …" (or "Cancel"), and, as a browser
// follows the 303, calls the callback the redirect names. For tests only.
import { Agent, fetch as undiciFetch } from 'undici';
import type { OscarEmrUser } from './oscar-authorize.ts';

export interface BrowserOptions {
  /** The simulator's CA when it serves https with a test certificate. */
  ca?: string;
  decision?: 'allow' | 'deny';
  /** Whether to follow the redirect to the callback (the command's listener); default true. */
  followRedirect?: boolean;
}

export interface BrowserResult {
  /** The decision's answer: 303 on success, 401 when the login was refused, 200 for `oob`. */
  status: number;
  /** The redirect's target (the callback with oauth_token and oauth_verifier), if any. */
  location?: string;
  /** The page the decision answered with (the verifier for `oob`, the login error). */
  body: string;
  /** The callback's answer when the redirect was followed. */
  callback?: { status: number; body: string };
}

/** The hidden inputs and the action of the page's form. */
function readForm(html: string, pageUrl: string): { action: string; hidden: Record<string, string> } {
  const action = /<form[^>]*action="([^"]*)"/.exec(html)?.[1];
  if (!action) throw new Error(`no form on the authorize page:\n${html.slice(0, 500)}`);
  const hidden: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) if (m[1]) hidden[m[1]] = m[2] ?? '';
  return { action: new URL(action.replace(/&#38;/g, '&'), pageUrl).toString(), hidden };
}

export async function authorizeInBrowser(authorizeUrl: string, user: OscarEmrUser, options: BrowserOptions = {}): Promise<BrowserResult> {
  const dispatcher = options.ca ? new Agent({ connect: { ca: options.ca } }) : undefined;
  const get = await undiciFetch(authorizeUrl, { dispatcher });
  const page = await get.text();
  if (get.status !== 200) return { status: get.status, body: page };
  const { action, hidden } = readForm(page, authorizeUrl);
  const form = new URLSearchParams({
    ...hidden,
    username: user.username,
    password: user.password,
    pin: user.pin,
    oauthDecision: options.decision ?? 'allow',
  });
  const post = await undiciFetch(action, { method: 'POST', body: form, redirect: 'manual', dispatcher });
  const result: BrowserResult = { status: post.status, body: await post.text() };
  const location = post.headers.get('location');
  if (location) result.location = location;
  if (location && options.followRedirect !== false) {
    const callback = await undiciFetch(location);
    result.callback = { status: callback.status, body: await callback.text() };
  }
  return result;
}
