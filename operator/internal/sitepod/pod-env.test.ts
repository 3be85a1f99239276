import { describe, expect, it } from 'vitest';
import { configFromEnv, DEFAULT_TERMINATION_MESSAGE_PATH, terminationMessageTarget, WorkerError } from './pod-env.ts';
import { SITE_POD_ENV } from './test-helpers.ts';

/** What a sync Job's pod is given (job.ts and site-pod.ts). */
const JOB_ENV = {
  ...SITE_POD_ENV,
  OCEAN_API_URL: 'https://ocean.example',
  CLOUDCONNECT_SEK_VERSION_FILE: '/var/run/secrets/cloudconnect/key/sek-version',
};

describe("the pod's configuration (sync worker and relay)", () => {
  it('reads what a sync Job is given, and defaults what it is not', () => {
    expect(configFromEnv(JOB_ENV)).toMatchObject({
      siteNumber: '1234',
      oceanApiUrl: 'https://ocean.example',
      credentialsDir: '/var/run/secrets/cloudconnect/emr',
      vault: { address: 'https://vault:8200', authMount: 'kubernetes', role: 'cloudconnect-clinic-maple' },
      sek: { mount: 'secret', path: 'cloudconnect/clinic/maple/sek' },
      terminationMessagePath: DEFAULT_TERMINATION_MESSAGE_PATH,
      terminationMessagePathExplicit: false,
      caBundleFile: undefined,
      keyVersionFile: '/var/run/secrets/cloudconnect/key/sek-version',
      logLevel: 'info',
    });
  });

  it.each([
    [
      'takes VAULT_AUTH_MOUNT and VAULT_SA_TOKEN_FILE defaults when unset',
      { VAULT_AUTH_MOUNT: '', VAULT_SA_TOKEN_FILE: '' },
      { vault: { authMount: 'kubernetes', serviceAccountTokenFile: '/var/run/secrets/cloudconnect/vault/token' } },
    ],
    [
      'takes the CA bundle file',
      { CLOUDCONNECT_CA_BUNDLE_FILE: '/var/run/secrets/cloudconnect/ca/ca.crt' },
      { caBundleFile: '/var/run/secrets/cloudconnect/ca/ca.crt' },
    ],
    [
      'takes a termination message path and remembers it was chosen',
      { TERMINATION_MESSAGE_PATH: '/tmp/result.json' },
      { terminationMessagePath: '/tmp/result.json', terminationMessagePathExplicit: true },
    ],
    ['takes LOG_LEVEL', { LOG_LEVEL: 'debug' }, { logLevel: 'debug' }],
    [
      "reads the EMR's wall clock in the site's zone when the spec names none",
      {},
      { siteTimeZone: 'America/Toronto', emrTimeZone: 'America/Toronto' },
    ],
    [
      "reads the EMR's wall clock in spec.emr.timeZone when the spec names one",
      {
        CLOUDCONNECT_INTEGRATION_SPEC: JSON.stringify({
          siteRef: { name: 'maple' },
          emr: { type: 'Accuro', timeZone: 'America/Regina', accuro: { tenantId: 'MAPLE' } },
        }),
      },
      { siteTimeZone: 'America/Toronto', emrTimeZone: 'America/Regina' },
    ],
    [
      'counts days in UTC outside a pod, where no operator sets CLOUDCONNECT_SITE_TIME_ZONE',
      { CLOUDCONNECT_SITE_TIME_ZONE: '' },
      { siteTimeZone: 'UTC', emrTimeZone: 'UTC' },
    ],
  ] as const)('%s', (_name, extra, expected) => {
    expect(configFromEnv({ ...JOB_ENV, ...extra })).toMatchObject(expected);
  });

  it.each([
    [
      'refuses CLOUDCONNECT_SITE_NUMBER=12a naming the variable',
      { CLOUDCONNECT_SITE_NUMBER: '12a' },
      'CLOUDCONNECT_SITE_NUMBER must be digits (got CLOUDCONNECT_SITE_NUMBER="12a")',
    ],
    [
      'refuses OCEAN_API_URL=ocean.example',
      { OCEAN_API_URL: 'ocean.example' },
      'OCEAN_API_URL must be an http(s) URL (got OCEAN_API_URL="ocean.example")',
    ],
    ['refuses VAULT_ADDR=vault:8200', { VAULT_ADDR: 'vault:8200' }, 'VAULT_ADDR must be an http(s) URL (got VAULT_ADDR="vault:8200")'],
    ['refuses LOG_LEVEL=loud', { LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of error, warn, info, http, verbose, debug, silly'],
    [
      'refuses a spec without emr.type',
      { CLOUDCONNECT_INTEGRATION_SPEC: '{"siteRef":{"name":"x"}}' },
      'CLOUDCONNECT_INTEGRATION_SPEC is not an EmrIntegration spec (no emr.type)',
    ],
    [
      'refuses a spec that is JSON null',
      { CLOUDCONNECT_INTEGRATION_SPEC: 'null' },
      'CLOUDCONNECT_INTEGRATION_SPEC is not an EmrIntegration spec (no emr.type)',
    ],
    [
      'refuses a site time zone the tz database does not know',
      { CLOUDCONNECT_SITE_TIME_ZONE: 'Mars/Olympus' },
      'CLOUDCONNECT_SITE_TIME_ZONE must be an IANA time zone name such as America/Toronto (got CLOUDCONNECT_SITE_TIME_ZONE="Mars/Olympus")',
    ],
    [
      'refuses an EMR time zone the tz database does not know',
      {
        CLOUDCONNECT_INTEGRATION_SPEC: JSON.stringify({
          siteRef: { name: 'maple' },
          emr: { type: 'Accuro', timeZone: 'Mars/Olympus', accuro: { tenantId: 'MAPLE' } },
        }),
      },
      'emr.timeZone "Mars/Olympus" is not a known IANA time zone',
    ],
    ['refuses neither VAULT_ROLE nor VAULT_TOKEN', { VAULT_ROLE: '' }, 'VAULT_ROLE is not set (or VAULT_TOKEN, outside a pod)'],
  ] as const)('%s', (_name, extra, message) => {
    expect(() => configFromEnv({ ...JOB_ENV, ...extra })).toThrow(message);
    expect(() => configFromEnv({ ...JOB_ENV, ...extra })).toThrow(
      expect.objectContaining({ name: 'WorkerError', reason: 'InvalidConfiguration' }),
    );
  });

  it('does not need OCEAN_API_URL for the relay', () => {
    expect(configFromEnv({ ...JOB_ENV, OCEAN_API_URL: '' }, { ocean: false }).oceanApiUrl).toBe('');
    expect(() => configFromEnv({ ...JOB_ENV, OCEAN_API_URL: '' })).toThrow(WorkerError);
  });

  it.each([
    [
      'is /dev/termination-log, not chosen, when TERMINATION_MESSAGE_PATH is unset',
      {},
      { path: DEFAULT_TERMINATION_MESSAGE_PATH, explicit: false },
    ],
    [
      'is /dev/termination-log, not chosen, when TERMINATION_MESSAGE_PATH is empty',
      { TERMINATION_MESSAGE_PATH: '' },
      { path: DEFAULT_TERMINATION_MESSAGE_PATH, explicit: false },
    ],
    ['is TERMINATION_MESSAGE_PATH when set', { TERMINATION_MESSAGE_PATH: '/tmp/r' }, { path: '/tmp/r', explicit: true }],
  ])('the termination message file %s', (_name, env, expected) => {
    expect(terminationMessageTarget(env)).toEqual(expected);
  });
});
