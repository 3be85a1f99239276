import { describe, expect, it } from 'vitest';
import { InvalidBundleError } from './referral-bundle.ts';
import { referralToFile } from './referral-filing.ts';

const PDF = Buffer.from('%PDF-1.4 letter').toString('base64');
const MR = { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] }, value: '42' };
const HCN = { system: 'https://fhir.infoway-inforoute.ca/NamingSystem/ca-on-patient-hcn', value: '9999999999' };
const bundle = (
  patient: Record<string, unknown>,
  extra: unknown[] = [{ resource: { resourceType: 'Binary', contentType: 'application/pdf', data: PDF } }],
) => ({
  resourceType: 'Bundle',
  id: 'ref-7',
  type: 'message',
  entry: [
    { fullUrl: 'urn:uuid:p1', resource: { resourceType: 'Patient', ...patient } },
    {
      resource: {
        resourceType: 'ServiceRequest',
        status: 'active',
        intent: 'order',
        code: { text: 'Cardiology' },
        subject: { reference: 'urn:uuid:p1' },
      },
    },
    ...extra,
  ],
});

function refusal(b: Record<string, unknown>): string {
  try {
    referralToFile(b);
  } catch (error) {
    if (error instanceof InvalidBundleError && error.status === 422) return error.message;
    throw error;
  }
  throw new Error('accepted');
}

describe('an eReferral bundle filed in the EMR', () => {
  it('is the received referral of the chart its Patient MR identifier names, with its PDF letter', () => {
    expect(referralToFile(bundle({ identifier: [HCN, MR] }))).toEqual({
      emrId: '42',
      title: 'Cardiology',
      text: 'eReferral ref-7 received from Ocean: Cardiology (active, order).',
      pdf: PDF,
    });
  });

  it('finds the Patient by Patient/<id> too, and the PDF in a DocumentReference', () => {
    const b = bundle({ id: 'pat', identifier: [MR] }, [
      { resource: { resourceType: 'DocumentReference', content: [{ attachment: { contentType: 'application/pdf', data: PDF } }] } },
    ]);
    const entries = b.entry as { resource: Record<string, unknown> }[];
    (entries[1] as { resource: Record<string, unknown> }).resource['subject'] = { reference: 'Patient/pat' };
    expect(referralToFile(b)).toMatchObject({ emrId: '42', pdf: PDF });
  });

  it.each([
    ['is refused when the Patient has only a health number (no chart id)', bundle({ identifier: [HCN] }), 'no identifier of type MR'],
    ['is refused when the MR value is not an EMR id', bundle({ identifier: [{ ...MR, value: '../42' }] }), 'no identifier of type MR'],
    [
      'is refused when the subject names no Patient of the Bundle',
      { ...bundle({ identifier: [MR] }), entry: bundle({ identifier: [MR] }).entry.slice(1) },
      'names no Patient entry',
    ],
    ['is refused without a PDF letter', bundle({ identifier: [MR] }, []), 'no referral letter'],
  ])('%s', (_name, b, message) => {
    const text = refusal(b as Record<string, unknown>);
    expect(text).toContain(message);
    expect(text).not.toContain('9999999999');
  });
});
