import { describe, expect, it } from 'vitest';
import { InvalidBundleError, parseReferralBundle } from './referral-bundle.ts';

const serviceRequest = { resourceType: 'ServiceRequest', status: 'active', intent: 'order', subject: { reference: 'Patient/p1' } };
const patient = { resourceType: 'Patient', id: 'p1', name: [{ family: 'Secretname' }], birthDate: '1950-05-06' };
const bundle = (over: Record<string, unknown> = {}, entries: unknown[] = [{ resource: patient }, { resource: serviceRequest }]) => ({
  resourceType: 'Bundle',
  id: 'ref-1',
  type: 'message',
  entry: entries,
  ...over,
});

function refusal(body: unknown): { status: number; message: string } {
  try {
    parseReferralBundle(body);
  } catch (error) {
    if (error instanceof InvalidBundleError) return { status: error.status, message: error.message };
    throw error;
  }
  throw new Error('accepted');
}

describe('an eReferral FHIR bundle', () => {
  it('is accepted as a FHIR R4 Bundle with an id and a ServiceRequest, its id the message id', () => {
    const parsed = parseReferralBundle(bundle());
    expect(parsed).toMatchObject({ id: 'ref-1', serviceRequests: 1 });
    expect(parsed.bundle).toEqual(bundle());
  });

  it.each([
    ['is refused with 400 when it is not a JSON object', [], 400, 'JSON object'],
    ['is refused with 422 when it is another resource', { resourceType: 'Patient' }, 422, 'resourceType must be Bundle'],
    ['is refused when it has no id', bundle({ id: undefined }), 422, 'Bundle.id is required'],
    ['is refused when its id is not a FHIR id', bundle({ id: 'a/b' }), 422, 'Bundle.id is required'],
    ['is refused when its type is not one a referral travels in', bundle({ type: 'searchset' }), 422, 'Bundle.type must be one of'],
    ['is refused when it has no entries', bundle({}, []), 422, 'Bundle.entry must be a non-empty list'],
    [
      'is refused when an entry is not a resource',
      bundle({}, [{ resource: serviceRequest }, { fullUrl: 'x' }]),
      422,
      'entry[1].resource must be',
    ],
    ['is refused when it nests a bundle', bundle({}, [{ resource: serviceRequest }, { resource: bundle() }]), 422, 'nested bundles'],
    ['is refused when it has no ServiceRequest', bundle({}, [{ resource: patient }]), 422, 'no ServiceRequest'],
    [
      'is refused when its ServiceRequest has no status',
      bundle({}, [{ resource: { ...serviceRequest, status: 'maybe' } }]),
      422,
      'entry[0].resource (ServiceRequest).status',
    ],
    [
      'is refused when its ServiceRequest has no intent',
      bundle({}, [{ resource: { ...serviceRequest, intent: undefined } }]),
      422,
      '(ServiceRequest).intent',
    ],
    [
      'is refused when its ServiceRequest names no patient',
      bundle({}, [{ resource: { ...serviceRequest, subject: {} } }]),
      422,
      '(ServiceRequest).subject.reference is required',
    ],
  ])('%s', (_name, body, status, message) => {
    const r = refusal(body);
    expect(r.status).toBe(status);
    expect(r.message).toContain(message);
  });

  it('never quotes a value of the bundle in a refusal', () => {
    const r = refusal(bundle({}, [{ resource: patient }, { resource: { ...serviceRequest, status: 'Secretname' } }]));
    expect(r.message).not.toContain('Secretname');
    expect(r.message).not.toContain('1950-05-06');
  });
});
