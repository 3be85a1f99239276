// Assertions shared by the adapter-vs-simulator tests (not a test file itself).
import { expect } from 'vitest';
import { leakedForms } from '../../../test/security/leak-forms.ts';
import type { Simulator } from '../../../test/simulators/common.ts';
import { type EmrAdapter, EmrError, type EmrErrorReason } from './adapter.ts';

/** Awaits a rejection, checks it is an EmrError with `reason`, and that no secret leaks into it. */
export async function expectEmrError(promise: Promise<unknown>, reason: EmrErrorReason, secrets: readonly string[]): Promise<EmrError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught, 'the call should have failed').toBeInstanceOf(EmrError);
  const error = caught as EmrError;
  expect({ reason: error.reason, message: error.message }).toMatchObject({ reason });
  expectNoSecrets(error, secrets);
  return error;
}

/** No credential value, in any form (as is, URL-encoded, JSON-escaped, base64), appears in the message, the stack or any own property of the error. */
function expectNoSecrets(error: unknown, secrets: readonly string[]): void {
  const e = error as Error;
  const text = [e.message, e.stack ?? '', JSON.stringify(e), String(e)].join('\n');
  for (const secret of secrets) expect(leakedForms(text, secret), `a credential value leaked into: ${e.message}`).toEqual([]);
}

export const PAST = '2000-01-01T00:00:00Z';

/** A minimal PDF, enough for the simulators to store and hash. */
export function samplePdf(text = 'synthetic'): Buffer {
  return Buffer.from(`%PDF-1.4\n% ${text}\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n`);
}

/** The FHIR gender an adapter reports for a simulated patient's sex code (F, M, anything else other). */
export function genderOfSimulated(sex: string): 'female' | 'male' | 'other' {
  if (sex === 'F') return 'female';
  if (sex === 'M') return 'male';
  return 'other';
}

/**
 * In an EMR that ignores idempotency keys (the simulators' default): a second post of the same key
 * makes a second record (recorded as a duplicate not honoured), and the adapter finds what it filed by
 * the key it wrote into it, the first record, and nothing under another key. Shared by the adapters' tests.
 */
export async function expectFindsFiledRecordsByKey(
  adapter: EmrAdapter,
  sim: Pick<Simulator, 'duplicates'>,
  patientId: string,
  prefix: string,
): Promise<void> {
  const doc = { patientId, title: 'Lab result', pdf: samplePdf(prefix), idempotencyKey: `${prefix}-find-doc` };
  const filed = await adapter.postDocument(doc);
  const again = await adapter.postDocument(doc);
  expect(again.id).not.toBe(filed.id);
  expect(sim.duplicates.filter((d) => d.idempotencyKey === doc.idempotencyKey).map((d) => d.honored)).toEqual([false]);
  expect(await adapter.findDocumentByKey?.({ patientId, idempotencyKey: doc.idempotencyKey })).toEqual({ id: filed.id });
  expect(await adapter.findDocumentByKey?.({ patientId, idempotencyKey: `${prefix}-never-filed` })).toBeUndefined();
  const note = { patientId, title: 'Secure message', text: 'Is the clinic open on Friday?', idempotencyKey: `${prefix}-find-note` };
  const noteFiled = await adapter.postNote(note);
  expect(await adapter.findNoteByKey?.({ patientId, idempotencyKey: note.idempotencyKey })).toEqual({ id: noteFiled.id });
  expect(await adapter.findNoteByKey?.({ patientId, idempotencyKey: `${prefix}-never-filed` })).toBeUndefined();
}
