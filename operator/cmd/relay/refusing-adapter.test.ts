import { describe, expect, it } from 'vitest';
import { EmrError } from '../../internal/httpx/remote-error.ts';
import { refusingAdapter } from './refusing-adapter.ts';

describe('refusingAdapter', () => {
  const error = new EmrError('InvalidCredentials', 'OSCAR: the credentials Secret lacks the key(s) accessToken, tokenSecret');
  const adapter = refusingAdapter('OSCARPro', error);

  it.each([
    ['refuses posting a document with the reason the adapter could not be built', () => adapter.postDocument({} as never)],
    ['refuses authenticating the same way', () => adapter.authenticate()],
    ['refuses reading a patient the same way', () => adapter.getPatient('1')],
    [
      'refuses a demographic update the same way (retried with the credentials reason, not dead-lettered as Unsupported)',
      () => adapter.updateDemographics?.({ patientId: '1', changes: { phone: '555-0100' }, idempotencyKey: 'k' }),
    ],
    [
      'refuses writing custom fields the same way',
      () => adapter.updateCustomFields?.({ patientId: '1', fields: [{ field: 'smokingStatus', value: 'Never' }], idempotencyKey: 'k' }),
    ],
  ])('%s', async (_name, call) => {
    await expect(call()).rejects.toBe(error);
  });

  it('keeps the EMR type and offers the optional calls its adapter has', () => {
    expect(adapter.type).toBe('OSCARPro');
    expect(typeof adapter.updateDemographics).toBe('function');
    expect(typeof adapter.updateCustomFields).toBe('function');
  });
});
