// Ocean's integration registration (seed 001, "Register an Integration"): the relay's webhook as an
// eReferrals integration with API Key Authentication, the header and key the relay checks, and "a
// copy of new referrals sent to this endpoint". The form is Ocean's; the API under
// `svc/v1/sites/{siteNumber}/integrations` is our design (see test/simulators/ocean-integrations.ts).
import { Reader } from '../httpx/json-reader.ts';
import type { OceanClient } from './client.ts';

/** The relay's webhook accepts Cloud Connect's own JSON messages (operator/cmd/relay/messages.ts)... */
export const RELAY_PAYLOAD_TYPE = 'Cloud Connect v1' as const;
/** ...and its eReferral endpoint (`/ocean/fhir_bundles`) Ocean's FHIR bundles, the portal's payload type (seed 001). */
export const FHIR_PAYLOAD_TYPE = 'FHIR v0.11.1' as const;

export interface WebhookRegistration {
  /** Integration Name, e.g. `Cloud Connect clinic-a/accuro`. */
  name: string;
  requestUrl: string;
  headerName: string;
  /** The relay's current API key: sent to Ocean, never logged nor stored elsewhere. */
  key: string;
  /** Default RELAY_PAYLOAD_TYPE; FHIR_PAYLOAD_TYPE for an eReferral endpoint without an EMR. */
  payloadType?: typeof RELAY_PAYLOAD_TYPE | typeof FHIR_PAYLOAD_TYPE;
}

/** What Ocean shows of a registration (never the key). */
export interface RegisteredView {
  id: string;
  requestUrl: string;
  headerName: string;
}

/** Pure: the body Ocean's registration takes. */
function registrationBody(r: WebhookRegistration): Record<string, unknown> {
  return {
    name: r.name,
    type: 'eReferrals',
    requestUrl: r.requestUrl,
    payloadType: r.payloadType ?? RELAY_PAYLOAD_TYPE,
    authentication: { type: 'apiKey', headerName: r.headerName, key: r.key },
    sendCopyOfNewReferrals: true,
  };
}

function view(body: unknown, what: string): RegisteredView {
  const read = new Reader('Ocean', what);
  const o = read.object(body, 'registration');
  const auth = read.object(o['authentication'], 'authentication');
  return {
    id: read.id(o['id'], 'id'),
    requestUrl: read.string(o['requestUrl'], 'requestUrl'),
    headerName: read.string(auth['headerName'], 'authentication.headerName'),
  };
}

export class OceanIntegrations {
  private readonly client: Pick<OceanClient, 'siteCall'>;

  constructor(client: Pick<OceanClient, 'siteCall'>) {
    this.client = client;
  }

  async create(r: WebhookRegistration): Promise<RegisteredView> {
    return view(await this.client.siteCall('POST', 'integrations', registrationBody(r)), 'POST integrations');
  }

  /** Replaces the registration; undefined when Ocean no longer has it. */
  async update(id: string, r: WebhookRegistration): Promise<RegisteredView | undefined> {
    const body = await this.client.siteCall('PUT', `integrations/${encodeURIComponent(id)}`, registrationBody(r));
    return body === undefined ? undefined : view(body, 'PUT integrations');
  }

  /** The registration as Ocean has it; undefined when it has none with this id. */
  async get(id: string): Promise<RegisteredView | undefined> {
    const body = await this.client.siteCall('GET', `integrations/${encodeURIComponent(id)}`);
    return body === undefined ? undefined : view(body, 'GET integrations');
  }

  /** Removes it; a registration already gone counts as removed. */
  async remove(id: string): Promise<void> {
    await this.client.siteCall('DELETE', `integrations/${encodeURIComponent(id)}`);
  }
}
