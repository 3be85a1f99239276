// Pure: is this body an eReferral Ocean may send (seed 001: a FHIR bundle posted to `…/fhir_bundles`)?
// Checked strictly at intake, before anything is stored: a FHIR R4 Bundle with an id (Ocean's
// referral id: the queue's de-duplication id, so a retried bundle is stored once), a type FHIR allows
// for an exchanged referral, entries that are resources, and at least one ServiceRequest (the
// referral itself) with the elements FHIR R4 requires of it (status, intent, subject). Anything else
// is refused: 400 for a body that is not a JSON object, 422 for a resource that is not such a Bundle,
// with a message that names the element (`entry[2].resource.status`), never a value (values are PHI).
// Ocean's own payload type ("FHIR v0.11.1" in the portal) is not public in detail; these are the
// checks FHIR R4 itself makes of the resources the referral needs.

export class InvalidBundleError extends Error {
  /** 400: not a JSON object at all; 422: a resource, but not a referral bundle we accept. */
  readonly status: 400 | 422;
  constructor(status: 400 | 422, message: string) {
    super(message);
    this.name = 'InvalidBundleError';
    this.status = status;
  }
}

/** FHIR's id type: 1 to 64 of A-Z a-z 0-9 - . */
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
/** Bundle types a referral is exchanged in (a `message` with a MessageHeader, or a transaction/collection of its resources). */
const BUNDLE_TYPES = ['message', 'transaction', 'collection', 'document'];
/** FHIR R4 request-status and request-intent codes. */
const REQUEST_STATUS = ['draft', 'active', 'on-hold', 'revoked', 'completed', 'entered-in-error', 'unknown'];
const REQUEST_INTENT = [
  'proposal',
  'plan',
  'directive',
  'order',
  'original-order',
  'reflex-order',
  'filler-order',
  'instance-order',
  'option',
];
/** A referral with its attachments is a few MB at most; the body limit bounds bytes, this bounds the walk. */
const MAX_ENTRIES = 1000;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export interface ReferralBundle {
  /** Bundle.id: the message id of the queue. */
  id: string;
  /** How many ServiceRequests it carries (for the log line: a count, never a value). */
  serviceRequests: number;
  /** The bundle as received. */
  bundle: Record<string, unknown>;
}

function checkServiceRequest(resource: Record<string, unknown>, where: string): void {
  if (!REQUEST_STATUS.includes(resource['status'] as string))
    throw new InvalidBundleError(422, `${where}.status must be a FHIR request status (${REQUEST_STATUS.join(', ')})`);
  if (!REQUEST_INTENT.includes(resource['intent'] as string))
    throw new InvalidBundleError(422, `${where}.intent must be a FHIR request intent (${REQUEST_INTENT.join(', ')})`);
  const subject = resource['subject'];
  if (!isObject(subject) || typeof subject['reference'] !== 'string' || subject['reference'].length === 0)
    throw new InvalidBundleError(422, `${where}.subject.reference is required (the patient referred)`);
}

function checkEntries(entries: unknown): number {
  if (!Array.isArray(entries) || entries.length === 0) throw new InvalidBundleError(422, 'Bundle.entry must be a non-empty list');
  if (entries.length > MAX_ENTRIES) throw new InvalidBundleError(422, `Bundle.entry has more than ${MAX_ENTRIES} entries`);
  let serviceRequests = 0;
  for (const [i, entry] of entries.entries()) {
    const where = `entry[${i}].resource`;
    const resource = isObject(entry) ? entry['resource'] : undefined;
    if (!isObject(resource) || typeof resource['resourceType'] !== 'string' || !/^[A-Z][A-Za-z]{1,63}$/.test(resource['resourceType']))
      throw new InvalidBundleError(422, `${where} must be a FHIR resource with a resourceType`);
    if (resource['resourceType'] === 'Bundle') throw new InvalidBundleError(422, `${where} is a Bundle: nested bundles are not accepted`);
    if (resource['resourceType'] !== 'ServiceRequest') continue;
    checkServiceRequest(resource, `${where} (ServiceRequest)`);
    serviceRequests++;
  }
  return serviceRequests;
}

/** The referral bundle, or an InvalidBundleError naming the first element that is wrong. */
export function parseReferralBundle(body: unknown): ReferralBundle {
  if (!isObject(body)) throw new InvalidBundleError(400, 'the body must be a JSON object (a FHIR Bundle)');
  if (body['resourceType'] !== 'Bundle')
    throw new InvalidBundleError(422, 'resourceType must be Bundle (a FHIR R4 Bundle with a ServiceRequest)');
  const id = body['id'];
  if (typeof id !== 'string' || !FHIR_ID.test(id)) throw new InvalidBundleError(422, 'Bundle.id is required: 1 to 64 of A-Z a-z 0-9 - .');
  if (!BUNDLE_TYPES.includes(body['type'] as string))
    throw new InvalidBundleError(422, `Bundle.type must be one of ${BUNDLE_TYPES.join(', ')}`);
  const serviceRequests = checkEntries(body['entry']);
  if (serviceRequests === 0) throw new InvalidBundleError(422, 'the Bundle has no ServiceRequest: it is not a referral');
  return { id, serviceRequests, bundle: body };
}
