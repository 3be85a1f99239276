import { describe, expect, it } from 'vitest';
import { SITE_POD_ENV } from '../../internal/sitepod/test-helpers.ts';
import { relayConfigFromEnv } from './cli.ts';

/** What the operator's relay Deployment gives the relay (controller/emrintegration/relay/deployment.ts). */
const RELAY_ENV = {
  ...SITE_POD_ENV,
  NATS_URL: 'nats://nats.nats.svc:4222',
  NATS_CREDS_PATH: 'cloudconnect/clinic/maple/relay/maple-accuro/nats',
  RELAY_PORT: '8080',
  RELAY_METRICS_PORT: '9090',
  RELAY_API_KEY_PATH: 'cloudconnect/clinic/maple/relay/maple-accuro',
};

describe("the relay's configuration", () => {
  it('reads what its Deployment gives it, on the real clock', () => {
    const { pod, settings, clock } = relayConfigFromEnv(RELAY_ENV);
    expect(pod).toMatchObject({ siteNumber: '1234', oceanApiUrl: '', sek: { mount: 'secret' } });
    expect(settings).toMatchObject({
      natsUrl: 'nats://nats.nats.svc:4222',
      natsCredsPath: 'cloudconnect/clinic/maple/relay/maple-accuro/nats',
      natsCa: undefined,
      port: 8080,
      metricsPort: 9090,
      apiKeyPath: 'cloudconnect/clinic/maple/relay/maple-accuro',
      host: '0.0.0.0',
      concurrency: 8,
      statusIntervalMs: 5000,
      ackWaitMs: 60_000,
    });
    expect(clock.scale).toBe(1);
  });

  it('runs a scaled clock from the origin given (tests)', () => {
    const { clock } = relayConfigFromEnv({
      ...RELAY_ENV,
      CLOUDCONNECT_RELAY_TIME_SCALE: '60',
      CLOUDCONNECT_RELAY_TIME_ORIGIN: new Date(Date.now() - 1000).toISOString(),
    });
    expect(clock.scale).toBe(60);
    expect(clock.realMs(60_000)).toBe(1000);
  });

  it.each([
    [
      'refuses a time scale without an origin',
      { CLOUDCONNECT_RELAY_TIME_SCALE: '60' },
      /CLOUDCONNECT_RELAY_TIME_SCALE and CLOUDCONNECT_RELAY_TIME_ORIGIN must be set together/,
    ],
    ['refuses an origin without a time scale', { CLOUDCONNECT_RELAY_TIME_ORIGIN: '2030-01-01T00:00:00Z' }, /must be set together/],
    [
      'refuses CLOUDCONNECT_RELAY_TIME_SCALE=-1',
      { CLOUDCONNECT_RELAY_TIME_SCALE: '-1', CLOUDCONNECT_RELAY_TIME_ORIGIN: '2030-01-01T00:00:00Z' },
      /CLOUDCONNECT_RELAY_TIME_SCALE must be a number above 0/,
    ],
    [
      'refuses CLOUDCONNECT_RELAY_TIME_ORIGIN=soon',
      { CLOUDCONNECT_RELAY_TIME_SCALE: '60', CLOUDCONNECT_RELAY_TIME_ORIGIN: 'soon' },
      /CLOUDCONNECT_RELAY_TIME_ORIGIN must be an ISO 8601 time/,
    ],
    [
      'refuses RELAY_ACK_WAIT_SECONDS=1 (under 5)',
      { RELAY_ACK_WAIT_SECONDS: '1' },
      /RELAY_ACK_WAIT_SECONDS must be an integer from 5 to 3600 \(got RELAY_ACK_WAIT_SECONDS="1"\)/,
    ],
    [
      'refuses RELAY_STATUS_INTERVAL_SECONDS=0',
      { RELAY_STATUS_INTERVAL_SECONDS: '0' },
      /RELAY_STATUS_INTERVAL_SECONDS must be an integer from 1 to 3600/,
    ],
    [
      'refuses a NATS_URL whose second server is not nats://',
      { NATS_URL: 'nats://a:4222,http://b:4222' },
      /NATS_URL must be nats:\/\/host:port/,
    ],
    [
      'names the pod and relay problems in one error',
      { CLOUDCONNECT_SITE_NUMBER: 'x', RELAY_PORT: 'http' },
      /CLOUDCONNECT_SITE_NUMBER must be digits; RELAY_PORT must be an integer from 0 to 65535/,
    ],
  ] as const)('%s', (_name, extra, message) => {
    expect(() => relayConfigFromEnv({ ...RELAY_ENV, ...extra })).toThrow(message);
    expect(() => relayConfigFromEnv({ ...RELAY_ENV, ...extra })).toThrow(expect.objectContaining({ reason: 'InvalidConfiguration' }));
  });
});
