// Ocean (CognisantMD) API simulator: the parts Cloud Connect talks to.
//   POST /svc/oauth2/token?grant_type=client_credentials   Basic client_id:client_secret
//        → {access_token, token_type: 'Bearer', expires_in}
//   POST /svc/v1/sites/{siteNumber}/sync-batches   Bearer; a JSON object (an encrypted sync
//        payload); optional Idempotency-Key → 202 {batchId, receivedAt}, or 200 + Idempotent-Replayed
//   GET  /_sim/batches, DELETE /_sim/batches        what was received, for tests
//   POST|GET|PUT|DELETE /svc/v1/sites/{siteNumber}/integrations[/{id}]   Bearer; Ocean's "Register an
//        Integration" (seed 001), see ocean-integrations.ts; GET /_sim/integrations lists what is
//        stored, keys included, for tests
// With the fault credentialNotAfter, the token answer also carries `client_secret_expires_at` (epoch
// seconds, the name RFC 7591 gives a client secret's expiry): our design, Ocean's is not public.
// The upload endpoint is our design (Ocean's own sync protocol is not public); token shape and
// path follow Ocean's public OAuth 2 client-credentials API.
// Webhooks: `deliverWebhook(url, payload)` plays Ocean's side: it first POSTs {challenge} and
// requires the same value echoed back, then POSTs the payload (any non-2xx is a failed delivery);
// `{ attempts, retryDelayMs }` retries a failed delivery as Ocean does (its real schedule is hours
// long; tests compress it). `registerWebhook(url, { headerName, key })` is Ocean's "Register an
// Integration" with API Key Authentication (seed 001): every later delivery to that URL carries the
// key in that header, as Ocean's do. EMR-bound payloads (our design, see operator/cmd/relay/messages.ts):
// `eFormNoteMessage` (with a `sessionId`: the forms of one sitting), `referralAttachmentMessage`,
// `secureMessageMessage`, `referralMessage` (sent or received), `demographicUpdateMessage`, `checkInMessage`
// (a kiosk check-in, `walkIn` for a walk-in); their PDFs carry the
// patient's name in cleartext, as Ocean's do, so a test can prove the relay never stores it in clear.
import { randomBytes } from 'node:crypto';
import {
  basicCredentials,
  bearerError,
  bearerToken,
  type Ctx,
  idempotencyKey,
  type Route,
  SimHttpError,
  SimState,
  type Simulator,
  type SimulatorOptions,
  serve,
  tokenError,
} from './common.ts';
import { IntegrationRegistry, type StoredRegistration } from './ocean-integrations.ts';
import { ReferralBookings } from './ocean-referral-bookings.ts';
import { type ReferralSender, referralSender } from './ocean-referrals.ts';
import { ReminderOutbox } from './ocean-reminders.ts';

export interface OceanCredentials {
  clientId: string;
  clientSecret: string;
}

export const OCEAN_DEV_CREDENTIALS: OceanCredentials = {
  clientId: 'sim-ocean-client-id',
  clientSecret: 'sim-ocean-client-secret-6e1f',
};

export interface OceanSimOptions extends SimulatorOptions {
  credentials?: OceanCredentials;
  /** Site numbers this client may upload to; any when omitted. */
  siteNumbers?: string[];
}

export interface SyncBatch {
  batchId: string;
  siteNumber: string;
  idempotencyKey: string | undefined;
  receivedAt: string;
  body: Record<string, unknown>;
}

export interface WebhookDelivery {
  url: string;
  challengeOk: boolean;
  status: number | undefined;
  error?: string;
}

export interface OceanSimulator extends Simulator, ReferralSender {
  readonly credentials: OceanCredentials;
  readonly batches: SyncBatch[];
  readonly batchDuplicates: { idempotencyKey: string; batchId: string }[];
  readonly webhookDeliveries: WebhookDelivery[];
  /** Integrations registered through the API (POST .../integrations), keys included. */
  readonly integrations: StoredRegistration[];
  /** Ocean's integration registration: the header and key sent with every delivery to `url` (replaced by a new registration). */
  registerWebhook(url: string, auth: { headerName: string; key: string }): void;
  /** Ocean's webhook delivery: challenge handshake, then the payload. */
  deliverWebhook(url: string, payload: unknown, headers?: Record<string, string>, retry?: WebhookRetry): Promise<WebhookDelivery>;
  /** Patient reminders posted through the API (ocean-reminders.ts), opt-outs and templates. */
  readonly reminders: ReminderOutbox;
  /** Booked eReferral dates of non-integrated sites (ocean-referral-bookings.ts). */
  readonly referralBookings: ReferralBookings;
}

/** The patient fields Ocean sends with an EMR-bound message (the EMR id routes it; the rest is PHI). */
export interface OceanPatient {
  emrId: string;
  firstName: string;
  lastName: string;
  birthDate: string;
  healthNumber?: string;
}

export type EmrBoundMessage = Record<string, unknown> & {
  messageId: string;
  type: 'eFormNote' | 'referralAttachment' | 'secureMessage' | 'referral' | 'demographicUpdate' | 'checkIn';
};

/** A one-page PDF with these text lines (enough for an EMR to file; content is cleartext, as in a real PDF). */
export function minimalPdf(lines: readonly string[]): Buffer {
  const esc = (t: string) => t.replace(/[\\()]/g, (c) => `\\${c}`);
  const stream = `BT /F1 11 Tf 72 740 Td 14 TL ${lines.map((l) => `(${esc(l)}) '`).join(' ')} ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${Buffer.byteLength(stream)} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out);
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

const patientLine = (p: OceanPatient) =>
  `${p.firstName} ${p.lastName}, born ${p.birthDate}${p.healthNumber ? `, HN ${p.healthNumber}` : ''}`;

/**
 * A completed eForm (questionnaire), rendered to PDF as Ocean does for the EMR chart; `customFields`:
 * its answers mapped to the EMR's custom demographic fields.
 */
export function eFormNoteMessage(
  messageId: string,
  patient: OceanPatient,
  form = 'PHQ-9 questionnaire',
  options: { sessionId?: string; customFields?: { field: string; value: string }[] } = {},
): EmrBoundMessage {
  const text = `${form} completed by ${patient.firstName} ${patient.lastName}. Score 7 (mild).`;
  return {
    messageId,
    type: 'eFormNote',
    sentAt: new Date().toISOString(),
    ...(options.sessionId ? { sessionId: options.sessionId } : {}),
    ...(options.customFields ? { customFields: options.customFields } : {}),
    patient,
    note: { title: `Ocean eForm: ${form}`, text, pdf: minimalPdf([`Ocean eForm: ${form}`, patientLine(patient), text]).toString('base64') },
  };
}

/** A referral's attachment (PDF). */
export function referralAttachmentMessage(messageId: string, patient: OceanPatient, title = 'Referral letter'): EmrBoundMessage {
  return {
    messageId,
    type: 'referralAttachment',
    sentAt: new Date().toISOString(),
    patient,
    attachment: {
      title,
      fileName: `${messageId}.pdf`,
      contentType: 'application/pdf',
      data: minimalPdf([title, patientLine(patient), 'Reason: assessment requested.']).toString('base64'),
    },
  };
}

/** A PDF attachment as Ocean sends it with a secure message or a referral. */
function oceanAttachment(title: string, patient: OceanPatient): Record<string, string> {
  return {
    title,
    fileName: `${title.replace(/[^A-Za-z0-9]+/g, '-')}.pdf`,
    contentType: 'application/pdf',
    data: minimalPdf([title, patientLine(patient)]).toString('base64'),
  };
}

/** A secure message (Ocean Health Messenger) to or from the patient, with the patient's attachments. */
export function secureMessageMessage(
  messageId: string,
  patient: OceanPatient,
  options: { subject?: string; direction?: 'toPatient' | 'fromPatient'; attachments?: string[] } = {},
): EmrBoundMessage {
  const subject = options.subject ?? 'Question about my prescription';
  const text = `Message from ${patient.firstName} ${patient.lastName}: can I take it with food?`;
  return {
    messageId,
    type: 'secureMessage',
    sentAt: new Date().toISOString(),
    patient,
    message: {
      subject,
      text,
      direction: options.direction ?? 'fromPatient',
      pdf: minimalPdf([subject, patientLine(patient), text]).toString('base64'),
    },
    ...(options.attachments ? { attachments: options.attachments.map((t) => oceanAttachment(t, patient)) } : {}),
  };
}

/** An eReferral sent by the clinic or received by it, with its attachments. */
export function referralMessage(
  messageId: string,
  patient: OceanPatient,
  direction: 'sent' | 'received',
  options: { title?: string; attachments?: string[] } = {},
): EmrBoundMessage {
  const title = options.title ?? (direction === 'sent' ? 'eReferral to cardiology' : 'eReferral from Dr. Sim');
  const text = `${title} for ${patient.firstName} ${patient.lastName}. Reason: assessment requested.`;
  return {
    messageId,
    type: 'referral',
    sentAt: new Date().toISOString(),
    patient,
    referral: { direction, title, text, pdf: minimalPdf([title, patientLine(patient), text]).toString('base64') },
    ...(options.attachments ? { attachments: options.attachments.map((t) => oceanAttachment(t, patient)) } : {}),
  };
}

/** The patient updated their demographics in Ocean (e.g. a new phone number). */
export function demographicUpdateMessage(messageId: string, patient: OceanPatient, changes: Record<string, string>): EmrBoundMessage {
  return { messageId, type: 'demographicUpdate', sentAt: new Date().toISOString(), patient, demographics: changes };
}

/** A kiosk check-in at `at` (an instant); `walkIn` for a patient who has no appointment. */
export function checkInMessage(messageId: string, patient: OceanPatient, at: Date, options: { walkIn?: boolean } = {}): EmrBoundMessage {
  return {
    messageId,
    type: 'checkIn',
    sentAt: new Date().toISOString(),
    patient,
    checkIn: { at: at.toISOString(), ...(options.walkIn === undefined ? {} : { walkIn: options.walkIn }) },
  };
}

export interface WebhookRetry {
  /** Deliveries in all, the first included (default 1: no retry). */
  attempts?: number;
  retryDelayMs?: number;
}

export async function start(options: OceanSimOptions = {}): Promise<OceanSimulator> {
  const credentials = options.credentials ?? OCEAN_DEV_CREDENTIALS;
  const state = new SimState('ocean', options);
  const batches: SyncBatch[] = [];
  const batchDuplicates: { idempotencyKey: string; batchId: string }[] = [];
  const webhookDeliveries: WebhookDelivery[] = [];

  function token(ctx: Ctx) {
    const grant = ctx.url.searchParams.get('grant_type') ?? ctx.form().get('grant_type');
    if (grant !== 'client_credentials') throw tokenError(ctx, 400, 'unsupported_grant_type', 'use client_credentials');
    const client = basicCredentials(ctx);
    if (state.faults.rejectCredentials || !client || client.user !== credentials.clientId || client.password !== credentials.clientSecret) {
      throw tokenError(ctx, 401, 'invalid_client', 'client authentication failed');
    }
    if (state.faults.deauthorized) throw tokenError(ctx, 400, 'unauthorized_client', 'the client has been disabled');
    if (state.credentialExpired()) throw tokenError(ctx, 401, 'invalid_client', 'the client secret has expired');
    const issued = state.issueToken(credentials.clientId);
    const notAfter = state.credentialNotAfter();
    return {
      json: {
        access_token: issued.value,
        token_type: 'Bearer',
        expires_in: Math.max(0, Math.round((issued.expiresAt.getTime() - issued.issuedAt.getTime()) / 1000)),
        ...(notAfter ? { client_secret_expires_at: Math.floor(notAfter.getTime() / 1000) } : {}),
      },
    };
  }

  /** The site number of a Bearer call on a site, once the token and the client's right to the site are checked. */
  function authorizedSite(ctx: Ctx): string {
    const check = state.checkToken(bearerToken(ctx));
    if (!check.ok)
      throw bearerError('invalid_token', check.problem === 'expired' ? 'The access token expired' : 'The access token is invalid');
    if (state.faults.deauthorized) throw new SimHttpError(403, { error: 'forbidden', message: 'the client has been disabled' });
    const siteNumber = ctx.params['siteNumber'] ?? '';
    if (!/^\d+$/.test(siteNumber)) throw new SimHttpError(400, { error: 'invalid_request', message: 'siteNumber must be digits' });
    if (options.siteNumbers && !options.siteNumbers.includes(siteNumber))
      throw new SimHttpError(403, { error: 'forbidden', message: 'not a site of this client' });
    return siteNumber;
  }

  function upload(ctx: Ctx) {
    const siteNumber = authorizedSite(ctx);
    const body = ctx.json();
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw new SimHttpError(400, { error: 'invalid_request', message: 'a JSON object is required' });
    const key = idempotencyKey(ctx);
    const existing = key === undefined ? undefined : batches.find((b) => b.idempotencyKey === key && b.siteNumber === siteNumber);
    if (existing && key !== undefined) {
      batchDuplicates.push({ idempotencyKey: key, batchId: existing.batchId });
      return {
        status: 200,
        json: { batchId: existing.batchId, receivedAt: existing.receivedAt },
        headers: { 'idempotent-replayed': 'true' },
      };
    }
    const batch: SyncBatch = {
      batchId: `batch-${batches.length + 1}`,
      siteNumber,
      idempotencyKey: key,
      receivedAt: state.now().toISOString(),
      body: body as Record<string, unknown>,
    };
    batches.push(batch);
    return { status: 202, json: { batchId: batch.batchId, receivedAt: batch.receivedAt } };
  }

  const registry = new IntegrationRegistry(() => state.now());
  const reminders = new ReminderOutbox(() => state.now());
  const referralBookings = new ReferralBookings();
  const integrationPath = '/svc/v1/sites/:siteNumber/integrations/:id';
  const routes: Route[] = [
    { method: 'POST', path: '/svc/oauth2/token', handler: token },
    { method: 'POST', path: '/svc/v1/sites/:siteNumber/sync-batches', handler: upload },
    {
      method: 'POST',
      path: '/svc/v1/sites/:siteNumber/integrations',
      handler: (ctx) => registry.create(authorizedSite(ctx), credentials.clientId, ctx),
    },
    { method: 'GET', path: integrationPath, handler: (ctx) => registry.get(authorizedSite(ctx), ctx) },
    { method: 'PUT', path: integrationPath, handler: (ctx) => registry.update(authorizedSite(ctx), ctx) },
    { method: 'DELETE', path: integrationPath, handler: (ctx) => registry.remove(authorizedSite(ctx), ctx) },
    { method: 'POST', path: '/svc/v1/sites/:siteNumber/reminders', handler: (ctx) => reminders.create(authorizedSite(ctx), ctx) },
    { method: 'GET', path: '/svc/v1/sites/:siteNumber/reminders', handler: (ctx) => reminders.find(authorizedSite(ctx), ctx) },
    {
      method: 'GET',
      path: '/svc/v1/sites/:siteNumber/referrals/booked',
      handler: (ctx) => referralBookings.list(authorizedSite(ctx), ctx),
    },
  ];
  const control: Route[] = [
    { method: 'GET', path: '/_sim/integrations', handler: () => ({ json: { integrations: registry.stored } }) },
    { method: 'GET', path: '/_sim/batches', handler: () => ({ json: { batches, duplicates: batchDuplicates } }) },
    {
      method: 'DELETE',
      path: '/_sim/batches',
      handler: () => {
        batches.length = 0;
        batchDuplicates.length = 0;
        return { json: { batches, duplicates: batchDuplicates } };
      },
    },
  ];

  async function deliverWebhook(
    url: string,
    payload: unknown,
    headers: Record<string, string> = {},
    retry: WebhookRetry = {},
  ): Promise<WebhookDelivery> {
    const attempts = Math.max(1, retry.attempts ?? 1);
    let delivery = await deliverOnce(url, payload, headers);
    for (let i = 1; i < attempts && !(delivery.status !== undefined && delivery.status >= 200 && delivery.status < 300); i++) {
      await new Promise((r) => setTimeout(r, retry.retryDelayMs ?? 1000));
      delivery = await deliverOnce(url, payload, headers);
    }
    return delivery;
  }

  const registrations = new Map<string, { headerName: string; key: string }>();
  const registerWebhook = (url: string, auth: { headerName: string; key: string }) => {
    registrations.set(url, auth);
  };

  async function deliverOnce(url: string, payload: unknown, headers: Record<string, string>): Promise<WebhookDelivery> {
    const api = registry.forUrl(url)?.authentication;
    const registered = registrations.get(url) ?? (api ? { headerName: api.headerName, key: api.key } : undefined);
    const auth: Record<string, string> = registered ? { [registered.headerName]: registered.key } : {};
    const post = (body: unknown) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth, ...headers },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
    const delivery: WebhookDelivery = { url, challengeOk: false, status: undefined };
    try {
      const challenge = randomBytes(16).toString('hex');
      const handshake = await post({ challenge });
      const text = await handshake.text();
      let echoed: unknown = text.trim();
      try {
        echoed = (JSON.parse(text) as { challenge?: unknown }).challenge ?? echoed;
      } catch {
        // plain-text echo is accepted too
      }
      delivery.challengeOk = handshake.ok && echoed === challenge;
      if (!delivery.challengeOk) {
        delivery.status = handshake.status;
        delivery.error = 'the challenge was not echoed';
      } else {
        const response = await post(payload);
        await response.arrayBuffer();
        delivery.status = response.status;
        if (!response.ok) delivery.error = `HTTP ${response.status}`;
      }
    } catch (error) {
      delivery.error = error instanceof Error ? error.message : String(error);
    }
    webhookDeliveries.push(delivery);
    return delivery;
  }

  const sim = await serve({ state, routes, control, host: options.host, port: options.port, tls: options.tls });
  return Object.assign(sim, {
    credentials,
    batches,
    batchDuplicates,
    webhookDeliveries,
    integrations: registry.stored,
    reminders,
    referralBookings,
    registerWebhook,
    deliverWebhook,
    // eReferral bundles (ocean-referrals.ts), with the key registered for the URL.
    ...referralSender((url) => registrations.get(url) ?? registry.forUrl(url)?.authentication),
  });
}
