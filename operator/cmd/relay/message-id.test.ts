import { describe, expect, it } from 'vitest';
import { contentHashOf, dedupIdOf } from './message-id.ts';
import { idempotencyKeyOf, type OceanMessage } from './messages.ts';

const SALT = 's'.repeat(43);
const message: OceanMessage = {
  messageId: 'oc-1',
  type: 'demographicUpdate',
  patient: { emrId: '7' },
  demographics: { phone: '555-0100' },
  sentAt: '2030-01-01T00:00:00Z',
};

describe('content-scoped message ids', () => {
  it('are the same for a retry of the same message, whatever its key order or send time', () => {
    const retry: OceanMessage = {
      sentAt: '2030-01-01T00:05:00Z',
      demographics: { phone: '555-0100' },
      patient: { emrId: '7' },
      type: 'demographicUpdate',
      messageId: 'oc-1',
    };
    expect(contentHashOf(retry, SALT)).toBe(contentHashOf(message, SALT));
  });

  it.each([
    ['differ for another message under the same id', { ...message, demographics: { phone: '555-0199' } }],
    ['differ for the same change to another patient', { ...message, patient: { emrId: '8' } }],
    [
      'differ when a nested send time differs (only the top-level sentAt is left out)',
      { ...message, demographics: { phone: '555-0100', sentAt: 'x' } },
    ],
  ])('%s', (_name, other) => {
    expect(contentHashOf(other as OceanMessage, SALT)).not.toBe(contentHashOf(message, SALT));
  });

  it('depend on the integration salt, so a guess of the fields cannot be confirmed without it', () => {
    expect(contentHashOf(message, 't'.repeat(43))).not.toBe(contentHashOf(message, SALT));
    expect(contentHashOf(message, SALT)).toMatch(/^[0-9a-f]{32}$/);
  });

  it('scope the de-duplication id and the EMR idempotency key to the integration and the content', () => {
    const hash = contentHashOf(message, SALT);
    expect(dedupIdOf('ns', 'a', 'oc-1', hash)).toBe(`ns/a/oc-1/${hash}`);
    expect(idempotencyKeyOf('ns', 'a', 'oc-1', hash)).not.toBe(idempotencyKeyOf('ns', 'a', 'oc-1', 'f'.repeat(32)));
    expect(idempotencyKeyOf('ns', 'a', 'oc-1', hash)).not.toBe(idempotencyKeyOf('ns', 'a', 'oc-1'));
    expect(idempotencyKeyOf('ns', 'a', 'oc-1', hash)).toMatch(/^ocean-[0-9a-f]{40}$/);
  });
});
