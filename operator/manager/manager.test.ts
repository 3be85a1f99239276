import { describe, expect, it } from 'vitest';
import { DEFAULT_EGRESS } from '../internal/httpx/egress-config.ts';
import type { Env } from '../runtime/env.ts';
import { configFromEnv } from './config.ts';

const relaySettingsFromEnv = (env: Env) => configFromEnv(env).relay;

describe('the relay settings', () => {
  it('deploy no relay without a NATS URL', () => {
    expect(relaySettingsFromEnv({})).toBeUndefined();
    expect(relaySettingsFromEnv({ NATS_URL: ' ' })).toBeUndefined();
  });

  it('default to the worker image, the relay command and the documented thresholds', () => {
    expect(relaySettingsFromEnv({ NATS_URL: 'nats://nats:4222', WORKER_IMAGE: 'example/cc:1', VAULT_ADDR: 'https://vault:8200' })).toEqual({
      deployment: {
        image: 'example/cc:1',
        natsUrl: 'nats://nats:4222',
        vaultAddress: 'https://vault:8200',
        vaultAuthMount: 'kubernetes',
        vaultRole: 'cloudconnect-sync',
        sekMount: 'secret',
        egress: DEFAULT_EGRESS,
        command: ['/nodejs/bin/node', 'operator/relay/main.ts'],
        natsReplicas: 1,
      },
      thresholds: { backlogMessages: 100, backlogAgeMs: 15 * 60_000, staleAfterMs: 2 * 60_000 },
      pollIntervalMs: 30_000,
    });
  });

  it('take the relay image, command, replicas, poll interval and thresholds given', () => {
    const s = relaySettingsFromEnv({
      NATS_URL: 'nats://a:4222,nats://b:4222',
      RELAY_IMAGE: 'example/relay:2',
      RELAY_COMMAND: 'node relay.ts',
      NATS_REPLICAS: '3',
      RELAY_STATUS_POLL_INTERVAL: '10s',
      RELAY_BACKLOG_MESSAGES: '5',
      RELAY_BACKLOG_AGE: '1h',
      RELAY_STALE_AFTER: '90s',
    });
    expect(s?.deployment).toMatchObject({ image: 'example/relay:2', command: ['node', 'relay.ts'], natsReplicas: 3 });
    expect(s?.thresholds).toEqual({ backlogMessages: 5, backlogAgeMs: 3_600_000, staleAfterMs: 90_000 });
    expect(s?.pollIntervalMs).toBe(10_000);
  });

  it.each([
    ['reject a URL that is not nats://', { NATS_URL: 'http://nats:4222' }, /NATS_URL must be nats:\/\/host:port/],
    [
      'reject a duration that is not one',
      { NATS_URL: 'nats://n:4222', RELAY_BACKLOG_AGE: 'soon' },
      /RELAY_BACKLOG_AGE must be a duration.*"soon"/,
    ],
    ['reject a poll under a second', { NATS_URL: 'nats://n:4222', RELAY_STATUS_POLL_INTERVAL: '100ms' }, /at least 1s/],
    [
      'reject a message threshold that is not a positive integer',
      { NATS_URL: 'nats://n:4222', RELAY_BACKLOG_MESSAGES: '0' },
      /RELAY_BACKLOG_MESSAGES must be an integer from 1/,
    ],
    ['reject more than five replicas', { NATS_URL: 'nats://n:4222', NATS_REPLICAS: '7' }, /NATS_REPLICAS must be an integer from 1 to 5/],
  ])('%s', (_name, env, message) => {
    expect(() => relaySettingsFromEnv(env)).toThrow(message);
  });
});
