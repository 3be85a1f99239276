import { describe, expect, it } from 'vitest';
import { attachmentsCondition } from './providers-step.ts';

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
