// The EMR-bound messages Ocean posts to the relay's webhook, checked at intake and turned into an
// adapter call at delivery. The shape is our design (Ocean's own webhook bundles are FHIR messages
// and not public in detail; test/simulators/ocean.ts sends exactly this):
//   { messageId, type: 'eFormNote' | 'referralAttachment' | 'demographicUpdate', sentAt?,
//     patient: { emrId, … },
//     note?:       { title, text?, pdf }          (eFormNote: the completed form rendered as PDF)
//     attachment?: { title, fileName?, contentType: 'application/pdf', data }   (referralAttachment)
//     demographics?: { firstName?, lastName?, birthDate?, sex?, healthNumber?, email?, phone? } }  (strings)
// Binary fields are base64. Errors name fields, never values (values are PHI).
import { createHash } from 'node:crypto';
import type { DemographicChanges, DocumentToPost, EmrAdapter } from '../../internal/emr/adapter.ts';
import { RelayError } from './schedule.ts';

const MESSAGE_TYPES = ['eFormNote', 'referralAttachment', 'demographicUpdate'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export interface OceanMessage {
  messageId: string;
  type: MessageType;
  patient: { emrId: string };
  note?: { title: string; pdf: string };
  attachment?: { title: string; data: string };
  demographics?: DemographicChanges;
  [field: string]: unknown;
}

const DEMOGRAPHIC_FIELDS = ['firstName', 'lastName', 'birthDate', 'sex', 'healthNumber', 'email', 'phone'] as const;

const MESSAGE_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export class InvalidMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidMessageError';
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function pdfField(section: Record<string, unknown>, name: string, where: string): void {
  const v = section[name];
  if (typeof v !== 'string' || v.length === 0 || !BASE64.test(v)) throw new InvalidMessageError(`${where}.${name} must be base64`);
  if (!Buffer.from(v.slice(0, 8), 'base64').subarray(0, 4).equals(Buffer.from('%PDF')))
    throw new InvalidMessageError(`${where}.${name} is not a PDF`);
}

function title(section: Record<string, unknown>, where: string): void {
  if (typeof section['title'] !== 'string' || section['title'].length === 0 || section['title'].length > 200)
    throw new InvalidMessageError(`${where}.title must be a string of 1 to 200 characters`);
}

/** Is this the `{challenge}` handshake Ocean sends before it delivers? Returns the value to echo. */
export function challengeOf(body: unknown): string | undefined {
  if (!isObject(body) || typeof body['challenge'] !== 'string') return undefined;
  return Object.keys(body).length === 1 ? body['challenge'] : undefined;
}

/** Checks a webhook body; throws InvalidMessageError naming the first field that is wrong. */
export function parseOceanMessage(body: unknown): OceanMessage {
  if (!isObject(body)) throw new InvalidMessageError('the body must be a JSON object');
  if (typeof body['messageId'] !== 'string' || !MESSAGE_ID.test(body['messageId']))
    throw new InvalidMessageError('messageId must be 1 to 128 of A-Z a-z 0-9 . _ : -');
  const type = body['type'];
  if (!(MESSAGE_TYPES as readonly unknown[]).includes(type))
    throw new InvalidMessageError(`type must be one of ${MESSAGE_TYPES.join(', ')}`);
  const patient = body['patient'];
  if (!isObject(patient) || typeof patient['emrId'] !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(patient['emrId']))
    throw new InvalidMessageError('patient.emrId must be an EMR id');
  if (type === 'eFormNote') {
    if (!isObject(body['note'])) throw new InvalidMessageError('note is required for an eFormNote');
    title(body['note'], 'note');
    pdfField(body['note'], 'pdf', 'note');
  } else if (type === 'referralAttachment') {
    if (!isObject(body['attachment'])) throw new InvalidMessageError('attachment is required for a referralAttachment');
    title(body['attachment'], 'attachment');
    if (body['attachment']['contentType'] !== undefined && body['attachment']['contentType'] !== 'application/pdf')
      throw new InvalidMessageError('attachment.contentType must be application/pdf');
    pdfField(body['attachment'], 'data', 'attachment');
  } else {
    const d = body['demographics'];
    if (!isObject(d) || Object.keys(d).length === 0)
      throw new InvalidMessageError('demographics is required for a demographicUpdate (at least one field)');
    for (const [key, value] of Object.entries(d)) {
      if (!(DEMOGRAPHIC_FIELDS as readonly string[]).includes(key))
        throw new InvalidMessageError(`demographics.${key} is not a field we can update (${DEMOGRAPHIC_FIELDS.join(', ')})`);
      if (typeof value !== 'string' || value.length === 0 || value.length > 200)
        throw new InvalidMessageError(`demographics.${key} must be a string of 1 to 200 characters`);
    }
    if (typeof d['birthDate'] === 'string' && !/^\d{4}-\d{2}-\d{2}$/.test(d['birthDate']))
      throw new InvalidMessageError('demographics.birthDate must be YYYY-MM-DD');
  }
  return body as OceanMessage;
}

/**
 * The EMR idempotency key of a message: the same for every redelivery and every replay, different
 * for every integration (a hash, so the key reveals nothing and fits every EMR's header). With the
 * content hash (message-id.ts; every message stored since it was introduced carries one), a forged
 * message under a reused id cannot make the EMR answer the real one with the forged document.
 */
export function idempotencyKeyOf(namespace: string, integration: string, messageId: string, contentHash?: string): string {
  const scoped = `${namespace}/${integration}/${messageId}${contentHash ? `/${contentHash}` : ''}`;
  return `ocean-${createHash('sha256').update(scoped).digest('hex').slice(0, 40)}`;
}

/**
 * Performs the message in the EMR. Notes are filed as PDF documents (no adapter has a chart-note call
 * yet); demographic updates go through `updateDemographics` where the adapter has it (FHIR so far).
 */
export async function deliverToEmr(adapter: EmrAdapter, message: OceanMessage, idempotencyKey: string): Promise<{ duplicate: boolean }> {
  let doc: DocumentToPost;
  if (message.type === 'eFormNote' && message.note) {
    doc = { patientId: message.patient.emrId, title: message.note.title, pdf: Buffer.from(message.note.pdf, 'base64'), idempotencyKey };
  } else if (message.type === 'referralAttachment' && message.attachment) {
    doc = {
      patientId: message.patient.emrId,
      title: message.attachment.title,
      pdf: Buffer.from(message.attachment.data, 'base64'),
      idempotencyKey,
    };
  } else if (message.type === 'demographicUpdate' && message.demographics) {
    // An adapter without the call: dead-lettered (replayable once it has one), never dropped.
    if (!adapter.updateDemographics) throw new RelayError('Unsupported', `the ${adapter.type} adapter cannot apply a demographic update`);
    return adapter.updateDemographics({ patientId: message.patient.emrId, changes: message.demographics, idempotencyKey });
  } else {
    throw new RelayError('InvalidMessage', `a ${String(message.type)} message without its content`);
  }
  return adapter.postDocument(doc);
}
