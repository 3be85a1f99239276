// Token endpoints that echo the credentials they were sent (the simulators' echoCredentials fault),
// with short secrets: the error quotes the endpoint's error_description, redacted, and carries none
// of the credentials in any form. The adapters run as the operator and the sync worker run them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leakedForms } from '../../../test/security/leak-forms.ts';
import { start as startAccuro } from '../../../test/simulators/accuro.ts';
import { start as startFhir } from '../../../test/simulators/fhir.ts';
import { start as startOcean } from '../../../test/simulators/ocean.ts';
import { OceanClient, type SyncBatchUpload } from '../ocean/client.ts';
import { AccuroAdapter } from './accuro.ts';
import { FhirAdapter } from './fhir.ts';

/** Short secrets whose URL, JSON and base64 forms all differ from the value. */
const ACCURO = {
  apiUsername: 'OceanAPISIM',
  apiPassword: 'k"9%',
  clientId: 'acc-client',
  clientSecret: 'Zq~',
  subscriptionKey: 'sub-key-0001',
};
const FHIR = { clientId: 'fhir-client', clientSecret: 'r/8"' };
const OCEAN = { clientId: 'ocean-client', clientSecret: 'q+7' };

/** Never sent: the token request fails first. */
const EMPTY_BATCH: SyncBatchUpload = {
  run: 'r',
  batchId: 'r:appointment:1',
  kind: 'appointment',
  count: 0,
  envelope: {} as SyncBatchUpload['envelope'],
};

const sims: { stop(): Promise<void> }[] = [];
let accuroUrl: string;
let accuroTenant: string;
let fhirUrl: string;
let oceanUrl: string;

beforeAll(async () => {
  const accuro = await startAccuro({ credentials: ACCURO, faults: { echoCredentials: true } });
  const fhir = await startFhir({ credentials: FHIR, faults: { echoCredentials: true } });
  const ocean = await startOcean({ credentials: OCEAN, faults: { echoCredentials: true } });
  sims.push(accuro, fhir, ocean);
  accuroUrl = accuro.url;
  accuroTenant = accuro.tenantId;
  fhirUrl = fhir.url;
  oceanUrl = ocean.url;
});
afterAll(async () => {
  for (const sim of sims) await sim.stop();
});

/** The message of the error the call fails with. */
async function failure(call: () => Promise<unknown>): Promise<{ reason: string; message: string }> {
  try {
    await call();
  } catch (error) {
    return error as { reason: string; message: string };
  }
  throw new Error('the call should have failed');
}

describe('a token endpoint that echoes the credentials it was sent', () => {
  it.each([
    [
      'is quoted, without the Accuro password, client secret or any of their forms, when the password is wrong',
      () =>
        new AccuroAdapter({ baseUrl: accuroUrl, tenantId: accuroTenant, credentials: { ...ACCURO, apiPassword: 'w"1%' } }).authenticate(),
      [ACCURO.clientSecret, 'w"1%'],
      'InvalidCredentials',
    ],
    [
      'is quoted, without the FHIR client secret or any of its forms, when the secret is wrong',
      () => new FhirAdapter({ baseUrl: fhirUrl, credentials: { ...FHIR, clientSecret: 'r/9"' } }).authenticate(),
      ['r/9"'],
      'InvalidCredentials',
    ],
    [
      'is quoted, without the Ocean client secret or any of its forms, when the secret is wrong',
      () => new OceanClient({ apiUrl: oceanUrl, siteNumber: '1234', clientId: OCEAN.clientId, clientSecret: 'q-7' }).upload(EMPTY_BATCH),
      ['q-7'],
      'OceanInvalidCredentials',
    ],
  ])('%s', async (_name, call, secrets, reason) => {
    const error = await failure(call);
    expect(error.reason).toBe(reason);
    expect(error.message).toContain('the endpoint says:');
    expect(error.message).toContain('[REDACTED]');
    for (const secret of secrets) expect(leakedForms(error.message, secret), `${secret} leaked into: ${error.message}`).toEqual([]);
  });
});
