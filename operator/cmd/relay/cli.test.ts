import { describe, expect, it } from 'vitest';
import { SITE_POD_ENV } from '../../internal/sitepod/test-helpers.ts';
import type { Env } from '../../runtime/env.ts';
import { realClock, scaledClock } from '../../runtime/scaled-clock.ts';
import { parseRelayArgs, relayConfigFromEnv, relayConnectOptions } from './cli.ts';
import { SekKeyring } from './sek-keyring.ts';

/** The relay's own settings, beside a valid pod environment. */
const relaySettingsFromEnv = (env: Env) => relayConfigFromEnv({ ...SITE_POD_ENV, ...env }).settings;

describe('the relay command line', () => {
  it('an integration is namespace/name', () => {
    expect(parseRelayArgs(['--integration', 'clinic/cedar-accuro'])).toEqual({ namespace: 'clinic', name: 'cedar-accuro' });
  });
  it('a missing or malformed integration is a usage error naming the flag', () => {
    expect(() => parseRelayArgs([])).toThrow(/--integration must be <namespace>\/<name>/);
    expect(() => parseRelayArgs(['--integration', 'Clinic/x/y'])).toThrow(/--integration/);
    expect(() => parseRelayArgs(['--bogus'])).toThrow(/bogus/);
  });
});

describe('the relay settings', () => {
  const required = {
    NATS_URL: 'nats://nats:4222',
    NATS_CREDS_PATH: 'cloudconnect/clinic/maple/relay/maple-accuro/nats',
    RELAY_API_KEY_PATH: 'cloudconnect/ns/site/relay/i',
  };

  it('only NATS_URL, NATS_CREDS_PATH and RELAY_API_KEY_PATH are required; the rest has defaults', () => {
    expect(relaySettingsFromEnv(required)).toEqual({
      natsUrl: 'nats://nats:4222',
      natsCredsPath: 'cloudconnect/clinic/maple/relay/maple-accuro/nats',
      natsCa: undefined,
      port: 8080,
      metricsPort: 9090,
      host: '0.0.0.0',
      apiKeyPath: 'cloudconnect/ns/site/relay/i',
      apiKeyRefreshMs: 30_000,
      maxBodyBytes: 16 * 1024 * 1024,
      maxInFlight: 4,
      server: { headersTimeoutMs: 10_000, requestTimeoutMs: 120_000, keepAliveTimeoutMs: 5000, maxConnections: 64 },
      tls: undefined,
      concurrency: 8,
      statusIntervalMs: 5000,
      ackWaitMs: 60_000,
      eReferral: { credentialsDir: undefined, caBundleFile: undefined },
    });
  });
  it('every bad value is named at once', () => {
    expect(() => relaySettingsFromEnv({ RELAY_PORT: 'x', RELAY_CONCURRENCY: '0' })).toThrow(
      /NATS_URL is not set; NATS_CREDS_PATH is not set; RELAY_PORT must be an integer from 0 to 65535; RELAY_API_KEY_PATH is not set; RELAY_CONCURRENCY must be an integer from 1 to 256/,
    );
  });
  it('a cluster is a comma-separated list of nats URLs', () => {
    expect(relaySettingsFromEnv({ ...required, NATS_URL: 'nats://a:4222,nats://b:4222' }).natsUrl).toBe('nats://a:4222,nats://b:4222');
    expect(() => relaySettingsFromEnv({ ...required, NATS_URL: 'http://a' })).toThrow(/NATS_URL must be nats:\/\//);
  });
  it.each([
    [
      'refuses a TLS certificate without its key',
      { RELAY_TLS_CERT_FILE: '/tls/tls.crt' },
      /RELAY_TLS_CERT_FILE and RELAY_TLS_KEY_FILE must be set together/,
    ],
    [
      'refuses a request timeout shorter than the headers timeout',
      { RELAY_HEADERS_TIMEOUT_SECONDS: '30', RELAY_REQUEST_TIMEOUT_SECONDS: '10' },
      /RELAY_REQUEST_TIMEOUT_SECONDS must be at least RELAY_HEADERS_TIMEOUT_SECONDS/,
    ],
    ['refuses RELAY_MAX_IN_FLIGHT=0', { RELAY_MAX_IN_FLIGHT: '0' }, /RELAY_MAX_IN_FLIGHT must be an integer from 1 to 256/],
    ['refuses a body limit under 1 KiB', { RELAY_MAX_BODY_BYTES: '10' }, /RELAY_MAX_BODY_BYTES must be an integer from 1024/],
  ] as const)('%s', (_name, extra, message) => {
    expect(() => relaySettingsFromEnv({ ...required, ...extra })).toThrow(message);
  });
  it('reads the TLS pair and the limits it is given', () => {
    const settings = relaySettingsFromEnv({
      ...required,
      RELAY_TLS_CERT_FILE: '/tls/tls.crt',
      RELAY_TLS_KEY_FILE: '/tls/tls.key',
      RELAY_MAX_IN_FLIGHT: '2',
      RELAY_HEADERS_TIMEOUT_SECONDS: '2',
      RELAY_REQUEST_TIMEOUT_SECONDS: '3',
      RELAY_MAX_CONNECTIONS: '10',
    });
    expect(settings.tls).toEqual({ certFile: '/tls/tls.crt', keyFile: '/tls/tls.key' });
    expect(settings.maxInFlight).toBe(2);
    expect(settings.server).toEqual({ headersTimeoutMs: 2000, requestTimeoutMs: 3000, keepAliveTimeoutMs: 5000, maxConnections: 10 });
  });
  it('connects as its own user, with replies on its own inbox prefix, over TLS with a CA when given', () => {
    const ca = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const settings = relaySettingsFromEnv({ ...required, NATS_URL: 'tls://a:4222,tls://b:4222', NATS_CA: ca });
    const options = relayConnectOptions('clinic', 'maple.accuro', settings, 'creds');
    expect(options.servers).toEqual(['tls://a:4222', 'tls://b:4222']);
    expect(options.inboxPrefix).toBe('_INBOX_clinic_maple_accuro');
    expect(options.tls).toEqual({ ca });
    expect(() => relaySettingsFromEnv({ ...required, NATS_CA: '/etc/ca.crt' })).toThrow(/NATS_CA must be PEM certificates/);
    expect(typeof options.authenticator).toBe('function');
    expect(relayConnectOptions('clinic', 'maple', relaySettingsFromEnv(required), 'creds').tls).toBeUndefined();
  });
  it('builds no stack trace per NATS request (several per relayed message)', () => {
    expect(relayConnectOptions('clinic', 'maple', relaySettingsFromEnv(required), 'creds').noAsyncTraces).toBe(true);
  });
});

describe('the relay clock', () => {
  it('production runs on the real clock', () => {
    const clock = realClock;
    expect(clock.scale).toBe(1);
    expect(Math.abs(clock.now().getTime() - Date.now())).toBeLessThan(1000);
  });
  it('a scaled clock runs faster from its origin, and delays shrink by the same factor', () => {
    let real = 1_000_000;
    const clock = scaledClock(1_000_000, 120, () => real);
    real += 1000;
    expect(clock.now().getTime()).toBe(1_000_000 + 120_000);
    expect(clock.realMs(3_600_000)).toBe(30_000);
  });
  it('two processes given the same origin and scale agree on the time', () => {
    const a = scaledClock(5000, 60, () => 9000);
    const b = scaledClock(5000, 60, () => 9000);
    expect(a.now()).toEqual(b.now());
  });
});

describe('the SEK keyring', () => {
  it('reads the current key once and other versions on demand, once each', async () => {
    const reads: (number | undefined)[] = [];
    const ring = new SekKeyring(async (version) => {
      reads.push(version);
      return { value: `key-version-${version ?? 3}`, version: version ?? 3 };
    });
    expect(await ring.current()).toEqual({ value: 'key-version-3', version: 3 });
    expect(await ring.version(3)).toBe('key-version-3');
    expect(await ring.version(2)).toBe('key-version-2');
    expect(await ring.version(2)).toBe('key-version-2');
    expect(reads).toEqual([undefined, 2]);
    expect(JSON.stringify(ring)).toBe('{}');
  });
  it('a failed read is tried again next time', async () => {
    let fail = true;
    const ring = new SekKeyring(async (version) => {
      if (fail) throw new Error('Vault unavailable');
      return { value: 'key-abcdef', version: version ?? 1 };
    });
    await expect(ring.current()).rejects.toThrow('Vault unavailable');
    await expect(ring.version(1)).rejects.toThrow('Vault unavailable');
    fail = false;
    expect((await ring.current()).value).toBe('key-abcdef');
    expect(await ring.version(1)).toBe('key-abcdef');
  });
});
