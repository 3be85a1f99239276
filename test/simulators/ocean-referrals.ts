// Ocean's side of an eReferral integration (seed 001: "Allow a copy of the referral to be sent to this
// endpoint when a new referral is sent from this site"): when a referral is created, Ocean POSTs its
// FHIR bundle to the registered Request URL (`…/fhir_bundles`) with the registered API key in the
// registered header (`Referral-Integration-API-Key`). Ocean's own payload ("FHIR v0.11.1" in the
// portal) is not public in detail; the bundle here is a FHIR R4 `message` Bundle with a
// MessageHeader, the referred Patient and the ServiceRequest, which is what the relay checks for.
// A failed post is retried as Ocean retries (its schedule is hours long; tests compress it).
import { randomBytes } from 'node:crypto';

export interface ReferralPatient {
  firstName: string;
  lastName: string;
  birthDate: string;
  healthNumber?: string;
}

export interface ReferralSend {
  url: string;
  bundleId: string;
  status: number | undefined;
  /** The relay's answer (names fields, never values). */
  answer?: unknown;
  error?: string;
}

export interface ReferralSender {
  /** Ocean creating a referral: POST the bundle to `url` with the key registered for it; `attempts` retries a failure. */
  sendReferral(
    url: string,
    bundle: Record<string, unknown>,
    options?: { attempts?: number; retryDelayMs?: number; headers?: Record<string, string> },
  ): Promise<ReferralSend>;
  readonly referralSends: ReferralSend[];
}

/**
 * A referral bundle as Ocean would send it when a referral to `service` is created for `patient`;
 * `chartId` adds the Patient's EMR chart id (an identifier of type MR, for a site whose EMR files it),
 * `letter` a DocumentReference with the referral letter (a PDF).
 */
export function referralBundle(
  id: string,
  patient: ReferralPatient,
  options: { service?: string; chartId?: string; letter?: Buffer } = {},
): Record<string, unknown> {
  const service = options.service ?? 'Cardiology consult';
  const patientId = `p-${randomBytes(4).toString('hex')}`;
  const mr = options.chartId
    ? [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] }, value: options.chartId }]
    : [];
  const letter = options.letter
    ? [
        {
          resource: {
            resourceType: 'DocumentReference',
            status: 'current',
            content: [
              { attachment: { contentType: 'application/pdf', title: 'Referral letter', data: options.letter.toString('base64') } },
            ],
          },
        },
      ]
    : [];
  return {
    resourceType: 'Bundle',
    id,
    type: 'message',
    timestamp: new Date().toISOString(),
    entry: [
      {
        fullUrl: `urn:uuid:${randomBytes(16).toString('hex')}`,
        resource: {
          resourceType: 'MessageHeader',
          eventCoding: { system: 'urn:ocean:events', code: 'referral-created' },
          source: { endpoint: 'https://ocean.cognisantmd.com' },
        },
      },
      {
        fullUrl: `urn:uuid:${patientId}`,
        resource: {
          resourceType: 'Patient',
          id: patientId,
          name: [{ family: patient.lastName, given: [patient.firstName] }],
          birthDate: patient.birthDate,
          identifier: [
            ...(patient.healthNumber
              ? [{ system: 'https://fhir.infoway-inforoute.ca/NamingSystem/ca-on-patient-hcn', value: patient.healthNumber }]
              : []),
            ...mr,
          ],
        },
      },
      {
        resource: {
          resourceType: 'ServiceRequest',
          id: `sr-${id}`,
          status: 'active',
          intent: 'order',
          code: { text: service },
          subject: { reference: `Patient/${patientId}` },
          authoredOn: new Date().toISOString(),
        },
      },
      ...letter,
    ],
  };
}

/** The sender, given how Ocean finds the header and key registered for a URL. */
export function referralSender(authFor: (url: string) => { headerName: string; key: string } | undefined): ReferralSender {
  const referralSends: ReferralSend[] = [];
  const once = async (url: string, bundle: Record<string, unknown>, headers: Record<string, string>): Promise<ReferralSend> => {
    const auth = authFor(url);
    const send: ReferralSend = { url, bundleId: String(bundle['id']), status: undefined };
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json', ...(auth ? { [auth.headerName]: auth.key } : {}), ...headers },
        body: JSON.stringify(bundle),
        signal: AbortSignal.timeout(10_000),
      });
      send.status = response.status;
      const text = await response.text();
      try {
        send.answer = JSON.parse(text);
      } catch {
        send.answer = text;
      }
    } catch (error) {
      send.error = error instanceof Error ? error.message : String(error);
    }
    referralSends.push(send);
    return send;
  };
  return {
    referralSends,
    sendReferral: async (url, bundle, options = {}) => {
      let send = await once(url, bundle, options.headers ?? {});
      for (let i = 1; i < (options.attempts ?? 1) && !(send.status !== undefined && send.status >= 200 && send.status < 300); i++) {
        await new Promise((r) => setTimeout(r, options.retryDelayMs ?? 1000));
        send = await once(url, bundle, options.headers ?? {});
      }
      return send;
    },
  };
}
