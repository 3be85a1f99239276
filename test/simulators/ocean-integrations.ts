// Ocean's "Register an Integration" (seed 001, Menu > Admin > Integrations) as an API: the fields of
// the portal's form, for the integration type eReferrals: Integration Name, Request URL, Payload
// Type, API Key Authentication (Header Name + Key) and "Allow a copy of the referral to be sent to
// this endpoint when a new referral is sent from this site". The form is public; the API shape is
// our design (Ocean publishes none for registrations):
//   POST   /svc/v1/sites/{siteNumber}/integrations        Bearer; a registration → 201 {id, ...}
//   GET    /svc/v1/sites/{siteNumber}/integrations/{id}   → 200 (the key is never returned) | 404
//   PUT    /svc/v1/sites/{siteNumber}/integrations/{id}   the whole registration → 200 | 404
//   DELETE /svc/v1/sites/{siteNumber}/integrations/{id}   → 204 | 404
// Validation is strict: unknown fields, a non-https or credential-bearing URL, a header name that is
// not a token, a key shorter than 32 characters or with spaces, an unknown payload type are 400.
import { type Ctx, exactKeys, invalidRequest, SimHttpError } from './common.ts';

/** Payload types of the portal's radio buttons, plus Cloud Connect's own JSON messages (our relay's). */
export const PAYLOAD_TYPES = ['FHIR v0.11.1', 'Cloud Connect v1'] as const;

export interface RegistrationInput {
  name: string;
  type: 'eReferrals';
  requestUrl: string;
  payloadType: (typeof PAYLOAD_TYPES)[number];
  authentication: { type: 'apiKey'; headerName: string; key: string };
  sendCopyOfNewReferrals: boolean;
}

export interface StoredRegistration extends RegistrationInput {
  id: string;
  siteNumber: string;
  /** The OAuth client that made it. */
  clientId: string;
  createdAt: string;
  updatedAt: string;
}

const FIELDS = ['name', 'type', 'requestUrl', 'payloadType', 'authentication', 'sendCopyOfNewReferrals'];
const AUTH_FIELDS = ['type', 'headerName', 'key'];

function requestUrl(value: unknown): string {
  if (typeof value !== 'string' || value.length > 2048) throw invalidRequest('requestUrl must be a URL of at most 2048 characters');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidRequest('requestUrl is not a URL');
  }
  if (url.protocol !== 'https:') throw invalidRequest('requestUrl must use https');
  if (url.username || url.password) throw invalidRequest('requestUrl must not carry credentials');
  if (url.hash) throw invalidRequest('requestUrl must not have a fragment');
  return value;
}

function authentication(value: unknown): RegistrationInput['authentication'] {
  const a = exactKeys(value, AUTH_FIELDS, 'authentication');
  if (a['type'] !== 'apiKey') throw invalidRequest('authentication.type must be apiKey (API Key Authentication)');
  const headerName = a['headerName'];
  if (typeof headerName !== 'string' || !/^[A-Za-z][A-Za-z0-9-]{0,63}$/.test(headerName))
    throw invalidRequest('authentication.headerName must be an HTTP header name');
  const key = a['key'];
  if (typeof key !== 'string' || key.length < 32 || key.length > 512 || !/^[\x21-\x7e]+$/.test(key))
    throw invalidRequest('authentication.key must be 32 to 512 visible ASCII characters');
  return { type: 'apiKey', headerName, key };
}

/** The registration in a request body, or a 400 naming what is wrong. */
export function parseRegistration(body: unknown): RegistrationInput {
  const r = exactKeys(body, FIELDS, 'the registration');
  const name = r['name'];
  if (typeof name !== 'string' || name.trim() === '' || name.length > 100) throw invalidRequest('name must be 1 to 100 characters');
  if (r['type'] !== 'eReferrals') throw invalidRequest('type must be eReferrals');
  const payloadType = r['payloadType'];
  if (!PAYLOAD_TYPES.includes(payloadType as RegistrationInput['payloadType']))
    throw invalidRequest(`payloadType must be one of ${PAYLOAD_TYPES.join(', ')}`);
  if (typeof r['sendCopyOfNewReferrals'] !== 'boolean') throw invalidRequest('sendCopyOfNewReferrals must be a boolean');
  return {
    name,
    type: 'eReferrals',
    requestUrl: requestUrl(r['requestUrl']),
    payloadType: payloadType as RegistrationInput['payloadType'],
    authentication: authentication(r['authentication']),
    sendCopyOfNewReferrals: r['sendCopyOfNewReferrals'],
  };
}

/** What GET answers: everything but the key. */
export function publicView(r: StoredRegistration): Record<string, unknown> {
  const { authentication: auth, clientId: _client, ...rest } = r;
  return { ...rest, authentication: { type: auth.type, headerName: auth.headerName } };
}

/** The registrations of every site, with the routes' handlers; `now` is the simulator's clock. */
export class IntegrationRegistry {
  readonly stored: StoredRegistration[] = [];
  private next = 1;
  private readonly now: () => Date;

  constructor(now: () => Date) {
    this.now = now;
  }

  create(siteNumber: string, clientId: string, ctx: Ctx) {
    const input = parseRegistration(ctx.json());
    const at = this.now().toISOString();
    const stored: StoredRegistration = { ...input, id: `int-${this.next++}`, siteNumber, clientId, createdAt: at, updatedAt: at };
    this.stored.push(stored);
    return { status: 201, json: publicView(stored) };
  }

  get(siteNumber: string, ctx: Ctx) {
    return { json: publicView(this.find(siteNumber, ctx)) };
  }

  update(siteNumber: string, ctx: Ctx) {
    const existing = this.find(siteNumber, ctx);
    Object.assign(existing, parseRegistration(ctx.json()), { updatedAt: this.now().toISOString() });
    return { json: publicView(existing) };
  }

  remove(siteNumber: string, ctx: Ctx) {
    const existing = this.find(siteNumber, ctx);
    this.stored.splice(this.stored.indexOf(existing), 1);
    return { status: 204 };
  }

  /** The latest registration whose request URL is `url` (deliveries carry its key). */
  forUrl(url: string): StoredRegistration | undefined {
    return this.stored.filter((r) => r.requestUrl === url).at(-1);
  }

  private find(siteNumber: string, ctx: Ctx): StoredRegistration {
    const id = ctx.params['id'] ?? '';
    const found = this.stored.find((r) => r.id === id && r.siteNumber === siteNumber);
    if (!found) throw new SimHttpError(404, { error: 'not_found', message: `no integration ${id} on site ${siteNumber}` });
    return found;
  }
}
