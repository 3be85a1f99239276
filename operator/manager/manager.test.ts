import { describe, expect, it } from 'vitest';
import { DEFAULT_EGRESS } from '../internal/httpx/egress-config.ts';
import type { Env } from '../runtime/env.ts';
import { configFromEnv } from './config.ts';

const relaySettingsFromEnv = (env: Env) => configFromEnv(env).relay;
const ACCOUNT = `A${'B'.repeat(55)}`;
const AUTH = { NATS_ACCOUNT: ACCOUNT, NATS_ACCOUNT_SIGNING_KEY_FILE: '/var/run/secrets/cloudconnect/nats/signing-key' };

describe('the relay settings', () => {
  it('deploy no relay without a NATS URL', () => {
    expect(relaySettingsFromEnv({})).toBeUndefined();
    expect(relaySettingsFromEnv({ NATS_URL: ' ' })).toBeUndefined();
  });

  it('default to the worker image, the relay command and the documented thresholds', () => {
    expect(
      relaySettingsFromEnv({ NATS_URL: 'nats://nats:4222', WORKER_IMAGE: 'example/cc:1', VAULT_ADDR: 'https://vault:8200', ...AUTH }),
    ).toEqual({
      deployment: {
        image: 'example/cc:1',
        natsUrl: 'nats://nats:4222',
        vaultAddress: 'https://vault:8200',
        vaultAuthMount: 'kubernetes',
        vaultRole: 'cloudconnect-sync',
        sekMount: 'secret',
        egress: DEFAULT_EGRESS,
        command: ['/nodejs/bin/node', 'operator/relay/main.ts'],
      },
      thresholds: { backlogMessages: 100, backlogAgeMs: 15 * 60_000, staleAfterMs: 2 * 60_000 },
      pollIntervalMs: 30_000,
      nats: { account: ACCOUNT, signingKeyFile: '/var/run/secrets/cloudconnect/nats/signing-key', caFile: undefined },
      limits: { workMaxBytes: 268_435_456, workMaxMessages: 100_000, deadMaxBytes: 67_108_864, deadMaxAgeMs: 14 * 86_400_000, replicas: 1 },
    });
  });

  it('take the relay image, command, replicas, limits, poll interval and thresholds given', () => {
    const s = relaySettingsFromEnv({
      ...AUTH,
      NATS_URL: 'nats://a:4222,nats://b:4222',
      NATS_CA_FILE: '/etc/nats-ca/ca.crt',
      RELAY_QUEUE_MAX_BYTES: '1048576',
      RELAY_QUEUE_MAX_MESSAGES: '10',
      RELAY_DEAD_LETTER_MAX_BYTES: '2097152',
      RELAY_DEAD_LETTER_MAX_AGE: '1h',
      RELAY_IMAGE: 'example/relay:2',
      RELAY_COMMAND: 'node relay.ts',
      NATS_REPLICAS: '3',
      RELAY_STATUS_POLL_INTERVAL: '10s',
      RELAY_BACKLOG_MESSAGES: '5',
      RELAY_BACKLOG_AGE: '1h',
      RELAY_STALE_AFTER: '90s',
    });
    expect(s?.deployment).toMatchObject({ image: 'example/relay:2', command: ['node', 'relay.ts'] });
    expect(s?.limits).toEqual({
      workMaxBytes: 1_048_576,
      workMaxMessages: 10,
      deadMaxBytes: 2_097_152,
      deadMaxAgeMs: 3_600_000,
      replicas: 3,
    });
    expect(s?.nats.caFile).toBe('/etc/nats-ca/ca.crt');
    expect(s?.thresholds).toEqual({ backlogMessages: 5, backlogAgeMs: 3_600_000, staleAfterMs: 90_000 });
    expect(s?.pollIntervalMs).toBe(10_000);
  });

  it.each([
    ['reject a URL that is not nats://', { NATS_URL: 'http://nats:4222' }, /NATS_URL must be nats:\/\/host:port/],
    [
      'reject a duration that is not one',
      { NATS_URL: 'nats://n:4222', ...AUTH, RELAY_BACKLOG_AGE: 'soon' },
      /RELAY_BACKLOG_AGE must be a duration.*"soon"/,
    ],
    ['reject a poll under a second', { NATS_URL: 'nats://n:4222', ...AUTH, RELAY_STATUS_POLL_INTERVAL: '100ms' }, /at least 1s/],
    [
      'reject a message threshold that is not a positive integer',
      { NATS_URL: 'nats://n:4222', ...AUTH, RELAY_BACKLOG_MESSAGES: '0' },
      /RELAY_BACKLOG_MESSAGES must be an integer from 1/,
    ],
    ['reject more than five replicas', { NATS_URL: 'nats://n:4222', NATS_REPLICAS: '7' }, /NATS_REPLICAS must be an integer from 1 to 5/],
    [
      'require the account and its signing key with a NATS URL (authentication is not optional)',
      { NATS_URL: 'nats://n:4222' },
      /NATS_ACCOUNT is required with NATS_URL.*NATS_ACCOUNT_SIGNING_KEY_FILE is required with NATS_URL/,
    ],
    [
      'reject an account that is no account key',
      { NATS_URL: 'nats://n:4222', ...AUTH, NATS_ACCOUNT: 'UABC' },
      /NATS_ACCOUNT must be a NATS account public key/,
    ],
    [
      'reject a queue under a MiB',
      { NATS_URL: 'nats://n:4222', ...AUTH, RELAY_QUEUE_MAX_BYTES: '1000' },
      /RELAY_QUEUE_MAX_BYTES must be an integer of at least 1048576/,
    ],
    [
      'reject a dead-letter age under a minute',
      { NATS_URL: 'nats://n:4222', ...AUTH, RELAY_DEAD_LETTER_MAX_AGE: '10s' },
      /RELAY_DEAD_LETTER_MAX_AGE/,
    ],
  ])('%s', (_name, env, message) => {
    expect(() => relaySettingsFromEnv(env)).toThrow(message);
  });
});
