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
  ])('%s', async (_name, call) => {
    await expect(call()).rejects.toBe(error);
  });

  it('keeps the EMR type and offers no demographic updates', () => {
    expect(adapter.type).toBe('OSCARPro');
    expect(adapter.updateDemographics).toBeUndefined();
  });
});
