// Fresh credentials for every demo simulator (random, never the fixed development ones), in the
// shape test/simulators/main.ts takes; written to a 0600 JSON file, never printed.
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import type { StartAllOptions } from '../../simulators/main.ts';

export type DemoCredentials = Required<NonNullable<StartAllOptions['credentials']>> & {
  accuro: { tenantId: string };
  /** The referral system behind the demo's eReferral endpoint (demo-none forwards to it). */
  referralTarget: { token: string };
};

const secret = (prefix: string) => `${prefix}-${randomBytes(18).toString('base64url')}`;

export function generateCredentials(): DemoCredentials {
  return {
    oscar: {
      clientKey: secret('demo-oscar-key'),
      clientSecret: secret('demo-oscar-secret'),
      accessToken: secret('demo-oscar-token'),
      tokenSecret: secret('demo-oscar-token-secret'),
    },
    accuro: {
      tenantId: 'DEMOCLINIC',
      apiUsername: 'OceanAPIDEMOCLINIC',
      apiPassword: secret('demo-accuro-password'),
      clientId: 'demo-accuro-client',
      clientSecret: secret('demo-accuro-secret'),
      subscriptionKey: randomBytes(16).toString('hex'),
    },
    fhir: { clientId: 'demo-fhir-client', clientSecret: secret('demo-fhir-secret') },
    telus: {
      instances: [
        {
          instanceId: 'DEMO-PSS-0001',
          instanceSecret: secret('demo-pss'),
          product: 'PSSuite',
          activationCode: `DEMO-${randomBytes(3).toString('hex').toUpperCase()}`,
        },
        { instanceId: 'DEMO-MA-0001', instanceSecret: secret('demo-ma'), product: 'MedAccess' },
      ],
    },
    ocean: { clientId: 'demo-ocean-client', clientSecret: secret('demo-ocean-secret') },
    referralTarget: { token: secret('demo-referral-target-token') },
  };
}

export function writeCredentials(file: string, credentials: DemoCredentials): void {
  writeFileSync(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // an older file keeps its mode otherwise
}

export function readCredentials(file: string): DemoCredentials {
  return JSON.parse(readFileSync(file, 'utf8')) as DemoCredentials;
}

const NOT_SECRET = new Set(['tenantId', 'apiUsername', 'clientId', 'instanceId', 'product']);

/** Every secret value of the credentials (what must never reach a file other than the 0600 one, a log or the summary). */
export function credentialSecrets(credentials: DemoCredentials): string[] {
  const out: string[] = [];
  const walk = (value: unknown, key: string) => {
    if (typeof value === 'string') {
      if (!NOT_SECRET.has(key)) out.push(value);
    } else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, Array.isArray(value) ? key : k);
  };
  walk(credentials, '');
  return out;
}
