import { describe, expect, it } from 'vitest';
import type { ConditionInput } from '../../runtime/conditions.ts';
import { attachmentsCondition, providersCondition } from './providers-step.ts';
import type { Providers } from './step.ts';

const seen = (discovered: number, ...missing: string[]): Providers => ({ discovered, missing });

const authenticated: ConditionInput = { type: 'Authenticated', status: 'True', reason: 'Authenticated', message: 'ok' };
const failing: ConditionInput = { type: 'Authenticated', status: 'False', reason: 'InvalidCredentials', message: 'no' };

describe('ProvidersVisible', () => {
  it.each([
    ['is True with the count when every configured provider is visible', authenticated, seen(6), 'True', '6 provider(s) visible'],
    [
      'is False naming the configured providers the API user cannot see',
      authenticated,
      seen(6, 'p1', 'p3'),
      'False',
      'provider(s) p1, p3:',
    ],
  ] as const)('%s', (_n, auth, providers, status, message) => {
    const c = providersCondition(auth, providers);
    expect(c).toMatchObject({ type: 'ProvidersVisible', status });
    expect(c?.message).toContain(message);
  });

  it.each([
    ['is not reported while authentication fails', failing, seen(1, 'p1')],
    ['is not reported before the providers were listed', authenticated, undefined],
  ] as const)('%s', (_n, auth, providers) => {
    expect(providersCondition(auth, providers)).toBeUndefined();
  });
});

describe('AttachmentsImportDisabled', () => {
  it.each([
    ['is False while attachments are imported automatically (the default)', undefined, 'False', 'Attachments are imported automatically'],
    [
      'is True when automatic import is off',
      { autoImportAttachments: false },
      'True',
      'Attachments are not imported into the EMR automatically (eReferral users must keep it on): attachments, eForm PDFs and referral PDFs are held in the relay dead-letter subject (reason AttachmentsImportDisabled); turn autoImportAttachments on, then replay them with the cloudconnect.dev/replayRequestedAt annotation',
    ],
    [
      'warns that eReferral attachments will be missed when the site receives eReferrals',
      { autoImportAttachments: false, eReferral: true },
      'True',
      'Attachments are not imported into the EMR automatically; this site receives eReferrals, whose attachments will be missed (eReferral users must keep it on): attachments, eForm PDFs and referral PDFs are held in the relay dead-letter subject (reason AttachmentsImportDisabled); turn autoImportAttachments on, then replay them with the cloudconnect.dev/replayRequestedAt annotation',
    ],
  ] as const)('%s', (_n, settings, status, message) => {
    expect(attachmentsCondition(settings)).toMatchObject({ type: 'AttachmentsImportDisabled', status, message });
  });
});
