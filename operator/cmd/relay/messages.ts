// The EMR-bound messages Ocean posts to the relay's webhook, checked at intake and turned into EMR
// calls at delivery (filing.ts decides which, from the integration's settings). The shape is our
// design (Ocean's own webhook bundles are FHIR messages and not public in detail;
// test/simulators/ocean.ts sends exactly this):
//   { messageId, type, sentAt?, patient: { emrId, … }, and by type:
//     eFormNote:          note: { title, text?, pdf }, sessionId?, customFields?   (the completed form: its
//                         progress-note text and its PDF; sessionId groups the forms of one sitting;
//                         customFields: [{ field, value }], the form's answers mapped to the EMR's custom
//                         demographic fields: field is the EMR's field name (a letter, then up to 63 of
//                         A-Z a-z 0-9 _ . -, each name once), value a string of at most 200 characters,
//                         at most 50 of them; written only with settings.customFields on, filing.ts)
//     referralAttachment: attachment: { title, fileName?, contentType: 'application/pdf', data }
//     secureMessage:      message: { subject, text, direction: 'toPatient' | 'fromPatient', pdf }, attachments?
//     referral:           referral: { direction: 'sent' | 'received', title, text, pdf }, attachments?
//     demographicUpdate:  demographics: { firstName?, lastName?, birthDate?, sex?, healthNumber?, email?, phone? }
//     checkIn:            checkIn: { at, walkIn? }   (a kiosk check-in: `at` an ISO 8601 instant with Z or an
//                         offset; walkIn true for a patient without an appointment; see check-in.ts)
//     referralBundle:     bundle: an eReferral FHIR Bundle as Ocean posted it to /ocean/fhir_bundles
//                         (referral-bundle.ts checks it; messageId is its Bundle.id; no patient field:
//                         the bundle names its patient), forwarded as is to spec.eReferral.forward }
//   attachments: [{ title, fileName?, contentType: 'application/pdf', data }] (at most 20)
// Binary fields are base64. Errors name fields, never values (values are PHI).
import { createHash } from 'node:crypto';
import type { DemographicChanges } from '../../internal/emr/adapter.ts';
import { InvalidBundleError, parseReferralBundle } from './referral-bundle.ts';

const MESSAGE_TYPES = [
  'eFormNote',
  'referralAttachment',
  'secureMessage',
  'referral',
  'demographicUpdate',
  'checkIn',
  'referralBundle',
] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export interface OceanMessage {
  messageId: string;
  type: MessageType;
  patient: { emrId: string };
  note?: { title: string; text?: string; pdf: string };
  sessionId?: string;
  customFields?: CustomFieldAnswer[];
  attachment?: OceanAttachment;
  message?: { subject: string; text: string; direction: 'toPatient' | 'fromPatient'; pdf: string };
  referral?: { direction: 'sent' | 'received'; title: string; text: string; pdf: string };
  attachments?: OceanAttachment[];
  demographics?: DemographicChanges;
  checkIn?: { at: string; walkIn?: boolean };
  bundle?: Record<string, unknown>;
  [field: string]: unknown;
}

/** An eForm answer mapped to one of the EMR's custom demographic fields. */
export interface CustomFieldAnswer {
  field: string;
  value: string;
}

export interface OceanAttachment {
  title: string;
  data: string;
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

const MAX_TEXT = 100_000;
const MAX_ATTACHMENTS = 20;

function text(section: Record<string, unknown>, name: string, where: string, optional = false): void {
  const v = section[name];
  if (optional && v === undefined) return;
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_TEXT)
    throw new InvalidMessageError(`${where}.${name} must be a string of 1 to ${MAX_TEXT} characters`);
}

function oneOf(section: Record<string, unknown>, name: string, where: string, values: readonly string[]): void {
  if (!values.includes(section[name] as string)) throw new InvalidMessageError(`${where}.${name} must be one of ${values.join(', ')}`);
}

function section(body: Record<string, unknown>, name: string, type: string): Record<string, unknown> {
  const v = body[name];
  if (!isObject(v)) throw new InvalidMessageError(`${name} is required for a ${type}`);
  return v;
}

function attachment(a: unknown, where: string): void {
  if (!isObject(a)) throw new InvalidMessageError(`${where} must be an object`);
  title(a, where);
  if (a['contentType'] !== undefined && a['contentType'] !== 'application/pdf')
    throw new InvalidMessageError(`${where}.contentType must be application/pdf`);
  pdfField(a, 'data', where);
}

function attachments(body: Record<string, unknown>): void {
  const list = body['attachments'];
  if (list === undefined) return;
  if (!Array.isArray(list) || list.length > MAX_ATTACHMENTS)
    throw new InvalidMessageError(`attachments must be a list of at most ${MAX_ATTACHMENTS}`);
  for (const [i, a] of list.entries()) attachment(a, `attachments[${i}]`);
}

function demographics(body: Record<string, unknown>): void {
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

/** An ISO 8601 instant: date, time and Z or an offset (a wall-clock time without a zone is ambiguous). */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

function checkIn(body: Record<string, unknown>): void {
  const c = section(body, 'checkIn', 'checkIn');
  if (typeof c['at'] !== 'string' || !INSTANT.test(c['at']) || Number.isNaN(Date.parse(c['at'])))
    throw new InvalidMessageError('checkIn.at must be an ISO 8601 instant with Z or an offset');
  if (c['walkIn'] !== undefined && typeof c['walkIn'] !== 'boolean') throw new InvalidMessageError('checkIn.walkIn must be true or false');
}

const CUSTOM_FIELD_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
const MAX_CUSTOM_FIELDS = 50;
const MAX_CUSTOM_FIELD_VALUE = 200;

/** An eForm's custom field answers: names are checked against a safe pattern (and named once valid), values never quoted. */
function customFields(body: Record<string, unknown>): void {
  const list = body['customFields'];
  if (list === undefined) return;
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_CUSTOM_FIELDS)
    throw new InvalidMessageError(`customFields must be a list of 1 to ${MAX_CUSTOM_FIELDS}`);
  const seen = new Set<string>();
  for (const [i, item] of list.entries()) {
    const where = `customFields[${i}]`;
    if (!isObject(item) || Object.keys(item).some((k) => k !== 'field' && k !== 'value'))
      throw new InvalidMessageError(`${where} must be an object with field and value only`);
    const field = item['field'];
    if (typeof field !== 'string' || !CUSTOM_FIELD_NAME.test(field))
      throw new InvalidMessageError(`${where}.field must be a letter, then up to 63 of A-Z a-z 0-9 _ . -`);
    if (seen.has(field)) throw new InvalidMessageError(`${where}.field repeats ${field}`);
    seen.add(field);
    if (typeof item['value'] !== 'string' || item['value'].length > MAX_CUSTOM_FIELD_VALUE)
      throw new InvalidMessageError(`${where}.value (${field}) must be a string of at most ${MAX_CUSTOM_FIELD_VALUE} characters`);
  }
}

/** The checks of each message type's own fields. */
const CHECK_TYPE: Record<MessageType, (body: Record<string, unknown>) => void> = {
  eFormNote: (body) => {
    const note = section(body, 'note', 'eFormNote');
    title(note, 'note');
    text(note, 'text', 'note', true);
    pdfField(note, 'pdf', 'note');
    if (body['sessionId'] !== undefined && (typeof body['sessionId'] !== 'string' || !MESSAGE_ID.test(body['sessionId'])))
      throw new InvalidMessageError('sessionId must be 1 to 128 of A-Z a-z 0-9 . _ : -');
    customFields(body);
  },
  referralAttachment: (body) => attachment(section(body, 'attachment', 'referralAttachment'), 'attachment'),
  secureMessage: (body) => {
    const m = section(body, 'message', 'secureMessage');
    if (typeof m['subject'] !== 'string' || m['subject'].length === 0 || m['subject'].length > 200)
      throw new InvalidMessageError('message.subject must be a string of 1 to 200 characters');
    text(m, 'text', 'message');
    oneOf(m, 'direction', 'message', ['toPatient', 'fromPatient']);
    pdfField(m, 'pdf', 'message');
    attachments(body);
  },
  referral: (body) => {
    const r = section(body, 'referral', 'referral');
    oneOf(r, 'direction', 'referral', ['sent', 'received']);
    title(r, 'referral');
    text(r, 'text', 'referral');
    pdfField(r, 'pdf', 'referral');
    attachments(body);
  },
  demographicUpdate: demographics,
  checkIn,
  referralBundle: (body) => {
    try {
      parseReferralBundle(body['bundle']);
    } catch (error) {
      if (error instanceof InvalidBundleError) throw new InvalidMessageError(`bundle: ${error.message}`);
      throw error;
    }
  },
};

/** The message a referral bundle is queued as (its Bundle.id is the message id; it names its patient itself). */
export function referralBundleMessage(id: string, bundle: Record<string, unknown>): OceanMessage {
  return { messageId: id, type: 'referralBundle', bundle } as unknown as OceanMessage;
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
  if (
    type !== 'referralBundle' &&
    (!isObject(patient) || typeof patient['emrId'] !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(patient['emrId']))
  )
    throw new InvalidMessageError('patient.emrId must be an EMR id');
  CHECK_TYPE[type as MessageType](body);
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
