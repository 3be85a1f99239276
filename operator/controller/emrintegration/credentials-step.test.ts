import { describe, expect, it } from 'vitest';
import type { EmrIntegrationSpec, OceanSite } from '../../api/v1alpha1/index.ts';
import { notIntegrated } from './credentials-step.ts';

const site = { metadata: { name: 'maple' }, spec: {} } as unknown as OceanSite;
const none: EmrIntegrationSpec = { siteRef: { name: 'maple' }, emr: { type: 'None' } };
const accuro = { siteRef: { name: 'maple' }, emr: { type: 'Accuro', accuro: {} } } as unknown as EmrIntegrationSpec;
const nonIntegrated = { reason: 'NonIntegrated', message: 'No EMR: the site keeps only its SEK in Cloud Connect' };

describe('an integration without an EMR', () => {
  it.each([
    ['is Ready as NonIntegrated once its OceanSite exists', none, site, { readyParts: [], ready: nonIntegrated }],
    [
      'is not Ready while its OceanSite does not exist, naming it',
      none,
      undefined,
      {
        readyParts: [{ type: 'SiteReady', status: 'False', reason: 'SiteNotReady', message: 'OceanSite maple does not exist' }],
        ready: nonIntegrated,
      },
    ],
    ['goes on to its credentials when it has an EMR', accuro, site, undefined],
  ] as const)('%s', (_n, spec, oceanSite, expected) => {
    expect(notIntegrated(spec, oceanSite)).toEqual(expected);
  });
});
