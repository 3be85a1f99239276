// Pure: an eReferral FHIR bundle (already checked by referral-bundle.ts) as the `referral` message
// (direction `received`) that the relay files into the integration's EMR per spec.settings.referrals
// (filing.ts: receivedSaveAs Documents → its PDF in referrals.documentFolder; EncounterNotes → a note),
// when the integration has an EMR and no spec.eReferral.forward. Two things a bundle must carry for
// that, refused with 422 at intake otherwise (nothing stored):
// - the chart: the referred Patient (ServiceRequest.subject) with an identifier of type `MR` (FHIR's
//   v2-0203 "Medical record number"), whose value is the EMR's chart id, as Ocean knows it for the
//   patients Cloud Connect synced. Our adapters file into a chart by its EMR id only; a search by
//   health number is not built (README, "eReferral endpoints");
// - the referral letter: a PDF (a DocumentReference's attachment or a Binary, application/pdf, base64).
// Messages name elements, never values.
import { InvalidBundleError } from './referral-bundle.ts';

const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
const EMR_ID = /^[A-Za-z0-9._-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

export interface ReferralToFile {
  emrId: string;
  title: string;
  text: string;
  pdf: string;
}

function entries(bundle: Json): { fullUrl?: string; resource: Json }[] {
  const list = Array.isArray(bundle['entry']) ? bundle['entry'] : [];
  return list.filter(isObject).flatMap((e) => {
    if (!isObject(e['resource'])) return [];
    return [{ resource: e['resource'], ...(typeof e['fullUrl'] === 'string' ? { fullUrl: e['fullUrl'] } : {}) }];
  });
}

/** The Patient a reference names: `Patient/<id>` or an entry's fullUrl. */
function patientOf(all: { fullUrl?: string; resource: Json }[], reference: string): Json | undefined {
  return all.find(
    (e) =>
      e.resource['resourceType'] === 'Patient' && (e.fullUrl === reference || `Patient/${String(e.resource['id'] ?? '')}` === reference),
  )?.resource;
}

function isMr(identifier: Json): boolean {
  const codings = isObject(identifier['type']) && Array.isArray(identifier['type']['coding']) ? identifier['type']['coding'] : [];
  return codings.some((c) => isObject(c) && c['system'] === V2_0203 && c['code'] === 'MR');
}

function chartOf(all: { fullUrl?: string; resource: Json }[], serviceRequest: Json): string {
  const subject = isObject(serviceRequest['subject']) ? String(serviceRequest['subject']['reference'] ?? '') : '';
  const patient = patientOf(all, subject);
  if (!patient)
    throw new InvalidBundleError(
      422,
      'the ServiceRequest.subject names no Patient entry of the Bundle: the referral cannot be filed in a chart',
    );
  const identifiers = Array.isArray(patient['identifier']) ? patient['identifier'].filter(isObject) : [];
  const mr = identifiers.find(isMr);
  const value = mr?.['value'];
  if (typeof value !== 'string' || !EMR_ID.test(value))
    throw new InvalidBundleError(
      422,
      'the Patient has no identifier of type MR (v2-0203, the EMR chart id): the referral cannot be filed in a chart',
    );
  return value;
}

/** The first application/pdf attachment: a DocumentReference's content, or a Binary. */
function pdfOf(all: { resource: Json }[]): string | undefined {
  for (const { resource } of all) {
    const attachments =
      resource['resourceType'] === 'DocumentReference' && Array.isArray(resource['content'])
        ? resource['content'].filter(isObject).map((c) => c['attachment'])
        : [];
    const candidates = resource['resourceType'] === 'Binary' ? [resource] : attachments;
    for (const a of candidates) {
      if (
        isObject(a) &&
        a['contentType'] === 'application/pdf' &&
        typeof a['data'] === 'string' &&
        a['data'].length > 0 &&
        BASE64.test(a['data'])
      )
        return a['data'];
    }
  }
  return undefined;
}

/** The referral to file, or a 422 naming what is missing. */
export function referralToFile(bundle: Json): ReferralToFile {
  const all = entries(bundle);
  const serviceRequest = all.find((e) => e.resource['resourceType'] === 'ServiceRequest')?.resource;
  if (!serviceRequest) throw new InvalidBundleError(422, 'the Bundle has no ServiceRequest: it is not a referral');
  const emrId = chartOf(all, serviceRequest);
  const pdf = pdfOf(all);
  if (!pdf)
    throw new InvalidBundleError(
      422,
      'the Bundle has no referral letter (a DocumentReference attachment or Binary, application/pdf): nothing to file',
    );
  const code = isObject(serviceRequest['code']) && typeof serviceRequest['code']['text'] === 'string' ? serviceRequest['code']['text'] : '';
  const title = (code || 'eReferral').slice(0, 200);
  const authored = typeof serviceRequest['authoredOn'] === 'string' ? `, authored ${serviceRequest['authoredOn']}` : '';
  const text = `eReferral ${String(bundle['id'])} received from Ocean: ${title} (${String(serviceRequest['status'])}, ${String(serviceRequest['intent'])}${authored}).`;
  return { emrId, title, text, pdf };
}
