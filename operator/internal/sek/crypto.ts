// PHI encryption with the site's Shared Encryption Key (SEK), before anything leaves the sync pod.
// Scheme (operator/cmd/worker/README.md, "Encryption"): per batch, a fresh random 16-byte salt;
// key = HKDF-SHA256(SEK UTF-8 bytes, salt, info "cloudconnect/v1/<siteNumber>", 32 bytes);
// AES-256-GCM with a random 12-byte IV; the additional authenticated data binds the site number,
// batch id and record kind, so a batch cannot be moved to another site, renamed or relabelled
// without the tag failing. A whole batch of records (JSON lines) is one message: in Node the
// per-call cipher setup, not the cipher, is what costs (`make bench-sync` measures both), so one
// setup per 500 records instead of one per record.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const ENVELOPE_VERSION = 1;
export const ENVELOPE_ALG = 'A256GCM-HKDF-SHA256';
const SALT_BYTES = 16;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

const RECORD_KINDS = ['provider', 'patient', 'appointment', 'manifest'] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];
/** The relay (operator/relay) stores each EMR-bound message from Ocean as one envelope of this kind. */
export const RELAY_MESSAGE_KIND = 'emr-message';
const ENVELOPE_KINDS = [...RECORD_KINDS, RELAY_MESSAGE_KIND] as const;
export type EnvelopeKind = (typeof ENVELOPE_KINDS)[number];

/** Batch ids travel in the AAD and in an HTTP header (Idempotency-Key): a conservative alphabet. */
const BATCH_ID = /^[A-Za-z0-9._:/-]{1,200}$/;
const SITE_NUMBER = /^\d{1,20}$/;

/** What Ocean receives for one batch; every binary field is base64. */
export interface Envelope {
  v: 1;
  alg: typeof ENVELOPE_ALG;
  salt: string;
  iv: string;
  /** The exact AAD bytes (UTF-8 JSON `{"v":1,"site":…,"batch":…,"kind":…}`), so a receiver can route before decrypting. */
  aad: string;
  ct: string;
  tag: string;
  /** Fingerprint of the SEK that encrypted the batch (as in OceanSite status), so a receiver picks the key version. */
  kid?: string;
}

export interface BatchContext {
  batchId: string;
  kind: EnvelopeKind;
}

export class DecryptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecryptError';
  }
}

/** The AAD: canonical JSON with a fixed key order, so both sides build the same bytes. */
export function batchAad(siteNumber: string, context: BatchContext): Buffer {
  return Buffer.from(JSON.stringify({ v: ENVELOPE_VERSION, site: siteNumber, batch: context.batchId, kind: context.kind }), 'utf8');
}

function deriveKey(sek: Buffer, salt: Buffer, siteNumber: string): Buffer {
  return Buffer.from(hkdfSync('sha256', sek, salt, `cloudconnect/v1/${siteNumber}`, KEY_BYTES));
}

function checkContext(siteNumber: string, context: BatchContext): void {
  if (!SITE_NUMBER.test(siteNumber)) throw new Error('the site number must be digits');
  if (!BATCH_ID.test(context.batchId)) throw new Error('a batch id may only use A-Z a-z 0-9 . _ : / - (1 to 200 characters)');
  if (!(ENVELOPE_KINDS as readonly string[]).includes(context.kind)) throw new Error(`unknown record kind ${String(context.kind)}`);
}

/** Records as JSON lines; JSON.stringify escapes line breaks inside strings, so lines never split. */
export function encodeRecords(records: readonly unknown[]): Buffer {
  return Buffer.from(records.map((r) => JSON.stringify(r)).join('\n'), 'utf8');
}

function decodeRecords(plaintext: Buffer): unknown[] {
  const text = plaintext.toString('utf8');
  return text === '' ? [] : text.split('\n').map((line) => JSON.parse(line) as unknown);
}

export interface SealInput {
  sek: Buffer;
  siteNumber: string;
  context: BatchContext;
  plaintext: Buffer;
  /** SALT_BYTES bytes; fresh random bytes for every batch (SekEncryptor draws them). */
  salt: Buffer;
  /** IV_BYTES bytes; fresh random bytes for every batch, never reused with the same key. */
  iv: Buffer;
}

/**
 * The envelope format itself: HKDF key from the SEK and the given salt, AES-256-GCM with the given
 * IV over the plaintext, the AAD of the context. Deterministic; SekEncryptor calls it with random
 * salt and IV, the test vector with fixed ones.
 */
export function sealBatch(input: SealInput): Envelope {
  const { sek, siteNumber, context, plaintext, salt, iv } = input;
  checkContext(siteNumber, context);
  if (sek.length === 0) throw new Error('the SEK is empty');
  if (salt.length !== SALT_BYTES) throw new Error(`the salt must be ${SALT_BYTES} bytes`);
  if (iv.length !== IV_BYTES) throw new Error(`the IV must be ${IV_BYTES} bytes`);
  const aad = batchAad(siteNumber, context);
  const key = deriveKey(sek, salt, siteNumber);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const tag = cipher.getAuthTag();
  key.fill(0);
  return {
    v: ENVELOPE_VERSION,
    alg: ENVELOPE_ALG,
    salt: salt.toString('base64'),
    iv: iv.toString('base64'),
    aad: aad.toString('base64'),
    ct: ct.toString('base64'),
    tag: tag.toString('base64'),
  };
}

export interface BatchEncryptor {
  readonly siteNumber: string;
  encryptBatch(context: BatchContext, records: readonly unknown[]): Envelope;
  /** Called before each batch: picks up a rotated key (see key-rotation.ts). */
  refresh?(): Promise<void>;
}

/**
 * Encrypts batches for one site. The SEK is held in a private, non-enumerable field, so a logged,
 * inspected, spread or serialised encryptor shows nothing of it.
 */
export class SekEncryptor implements BatchEncryptor {
  readonly siteNumber: string;
  private readonly sek: Buffer;

  constructor(sek: string | Buffer, siteNumber: string) {
    this.sek = Buffer.isBuffer(sek) ? Buffer.from(sek) : Buffer.from(sek, 'utf8');
    Object.defineProperty(this, 'sek', { enumerable: false });
    if (this.sek.length === 0) throw new Error('the SEK is empty');
    if (!SITE_NUMBER.test(siteNumber)) throw new Error('the site number must be digits');
    this.siteNumber = siteNumber;
  }

  encryptBatch(context: BatchContext, records: readonly unknown[]): Envelope {
    return this.encryptPlaintext(context, encodeRecords(records));
  }

  /** Encrypts already encoded JSON lines (the benchmark measures this part alone). */
  encryptPlaintext(context: BatchContext, plaintext: Buffer): Envelope {
    return sealBatch({
      sek: this.sek,
      siteNumber: this.siteNumber,
      context,
      plaintext,
      salt: randomBytes(SALT_BYTES),
      iv: randomBytes(IV_BYTES),
    });
  }

  toJSON(): Record<string, string> {
    return { siteNumber: this.siteNumber };
  }
}

function field(envelope: Record<string, unknown>, name: string, bytes?: number): Buffer {
  const value = envelope[name];
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw new DecryptError(`envelope.${name} is not base64`);
  const buf = Buffer.from(value, 'base64');
  if (bytes !== undefined && buf.length !== bytes) throw new DecryptError(`envelope.${name} must be ${bytes} bytes`);
  return buf;
}

export interface DecryptedBatch {
  siteNumber: string;
  batchId: string;
  kind: EnvelopeKind;
  records: unknown[];
}

/**
 * Ocean's side (and the tests'): checks the envelope, that its AAD names `siteNumber` (and the
 * expected batch id / kind when given), and decrypts. Any tampering, a wrong SEK or a wrong site
 * throws DecryptError; nothing of the plaintext is in the message.
 */
export function decryptBatch(
  envelope: unknown,
  sek: string | Buffer,
  siteNumber: string,
  expected: Partial<BatchContext> = {},
): DecryptedBatch {
  if (envelope === null || typeof envelope !== 'object' || Array.isArray(envelope)) throw new DecryptError('the envelope is not an object');
  const e = envelope as Record<string, unknown>;
  if (e['v'] !== ENVELOPE_VERSION || e['alg'] !== ENVELOPE_ALG)
    throw new DecryptError(`unsupported envelope (v ${String(e['v'])}, alg ${String(e['alg'])})`);
  const salt = field(e, 'salt', SALT_BYTES);
  const iv = field(e, 'iv', IV_BYTES);
  const tag = field(e, 'tag', TAG_BYTES);
  const aad = field(e, 'aad');
  const ct = field(e, 'ct');
  let context: { v?: unknown; site?: unknown; batch?: unknown; kind?: unknown };
  try {
    context = JSON.parse(aad.toString('utf8')) as typeof context;
  } catch {
    throw new DecryptError('envelope.aad is not the expected JSON');
  }
  if (context.site !== siteNumber) throw new DecryptError('the batch is not for this site');
  if (expected.batchId !== undefined && context.batch !== expected.batchId) throw new DecryptError('the batch id does not match');
  if (expected.kind !== undefined && context.kind !== expected.kind) throw new DecryptError('the record kind does not match');
  if (typeof context.batch !== 'string' || !(ENVELOPE_KINDS as readonly unknown[]).includes(context.kind))
    throw new DecryptError('envelope.aad lacks batch or kind');
  // Rebuilding the AAD from its parsed parts refuses any non-canonical encoding of the same context.
  const canonical = batchAad(siteNumber, { batchId: context.batch, kind: context.kind as EnvelopeKind });
  if (!canonical.equals(aad)) throw new DecryptError('envelope.aad is not canonical');
  const skey = Buffer.isBuffer(sek) ? sek : Buffer.from(sek, 'utf8');
  const key = deriveKey(skey, salt, siteNumber);
  let plaintext: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    plaintext = Buffer.concat([decipher.update(ct), decipher.final()]);
  } catch {
    throw new DecryptError('authentication failed: wrong key, or the batch was altered');
  } finally {
    key.fill(0);
  }
  return { siteNumber, batchId: context.batch, kind: context.kind as EnvelopeKind, records: decodeRecords(plaintext) };
}
