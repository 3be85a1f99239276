import { describe, expect, it } from 'vitest';
import { VaultUnavailableError } from '../../internal/vault/client.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';
import { TerminalError, TransientError } from '../../runtime/errors.ts';
import { decideFailure, failedStatus, readyCondition, readyStatus, requeueAfter } from './status.ts';

const keyStored: ConditionInput = { type: 'KeyStored', status: 'True', reason: 'Stored', message: 'stored' };
const forbidden = Object.assign(new Error('HTTP 403'), { code: 403 });

describe('a failed step', () => {
  it('stalls the site on a spec that cannot work, and is returned as it is', () => {
    const error = new TerminalError('InvalidTimeZone', 'bad zone');
    expect(decideFailure([], error)).toEqual({
      conditions: [
        { type: 'Stalled', status: 'True', reason: 'InvalidTimeZone', message: 'bad zone' },
        { type: 'KeyStored', status: 'False', reason: 'InvalidTimeZone', message: 'bad zone' },
        { type: 'Ready', status: 'False', reason: 'InvalidTimeZone', message: 'bad zone' },
      ],
      retry: undefined,
    });
  });

  it.each([
    [
      'says KeyStored Unknown while Vault is unavailable',
      new VaultUnavailableError('sealed'),
      { type: 'KeyStored', status: 'Unknown', reason: 'VaultUnavailable', message: 'Vault is unavailable: sealed' },
      { type: 'Ready', status: 'Unknown', reason: 'VaultUnavailable', message: 'Vault is unavailable: sealed' },
    ],
    [
      'says KeyStored False on a transient failure',
      new TransientError('KeyNotFound', 'no SEK'),
      { type: 'KeyStored', status: 'False', reason: 'KeyNotFound', message: 'no SEK' },
      { type: 'Ready', status: 'False', reason: 'KeyNotFound', message: 'no SEK' },
    ],
  ])('%s, and is retried with backoff', (_name, error, stored, ready) => {
    expect(decideFailure([], error)).toEqual({ conditions: [stored, ready], retry: error });
  });

  it('summarises Ready from the conditions set before the failure too', () => {
    const earlier: ConditionInput = { type: 'KeyStored', status: 'False', reason: 'Earlier', message: 'earlier' };
    expect(decideFailure([earlier], new TransientError('Later', 'later'))?.conditions[1]).toMatchObject({ reason: 'Earlier' });
  });

  it('says PermissionDenied when the API server refuses the operator, and is retried as a transient error', () => {
    const failure = decideFailure([keyStored], forbidden);
    const message = "the API server refused an operator request; check the operator's RBAC: HTTP 403";
    expect(failure?.conditions).toEqual([{ type: 'Ready', status: 'False', reason: 'PermissionDenied', message }]);
    expect(failure?.retry).toBeInstanceOf(TransientError);
    expect(failure?.retry).toMatchObject({ reason: 'PermissionDenied', message });
  });

  it.each([
    ['writes no status for an error of no known kind', new Error('boom')],
    ['writes no status for another HTTP status', Object.assign(new Error('HTTP 500'), { code: 500 })],
  ])('%s', (_name, error) => {
    expect(decideFailure([], error)).toBeUndefined();
  });
});

describe('the next reconcile', () => {
  const now = new Date('2025-03-01T10:00:00Z');
  const at = (ms: number) => new Date(now.getTime() + ms);
  it.each([
    ['comes at the key recheck without expiring grants', undefined, 600_000],
    ['comes at the next grant expiry when it is sooner', at(30_000), 30_000],
    ['comes at the key recheck when the expiry is later', at(3_600_000), 600_000],
    ['waits at least a second for an expiry that is due', at(-5_000), 1_000],
  ])('%s', (_name, nextExpiry, expected) => {
    expect(requeueAfter(nextExpiry, 600_000, now)).toBe(expected);
  });
});

describe('the status of a site whose steps succeeded', () => {
  const key = { mount: 'secret', path: 'p', version: 2, fingerprint: 'f', storedAt: 't' };
  const input = {
    previous: { lastHandledRequestedAt: 'r0', supportAccess: [{ name: 'old', active: true }] },
    generation: 4,
    key,
    serviceAccount: 'maple',
    integrations: 2,
    support: { active: [], expired: [] },
    requestedAt: undefined,
  };

  it('keeps the last handled request when there is no new one, and drops an empty support list', () => {
    expect(readyStatus(input)).toEqual({
      lastHandledRequestedAt: 'r0',
      observedGeneration: 4,
      encryptionKey: key,
      serviceAccountName: 'maple',
      integrations: 2,
    });
  });

  it('records the request handled and the active grants with their expiry', () => {
    const status = readyStatus({
      ...input,
      requestedAt: 'r1',
      support: { active: [{ name: 'helpdesk' }, { name: 'vendor', expiresAt: 'x' }], expired: [] },
    });
    expect(status.lastHandledRequestedAt).toBe('r1');
    expect(status.supportAccess).toEqual([
      { name: 'helpdesk', active: true },
      { name: 'vendor', expiresAt: 'x', active: true },
    ]);
  });

  it('is Ready with Succeeded once the key is stored', () => {
    expect(readyCondition([keyStored])).toEqual({
      type: 'Ready',
      status: 'True',
      reason: 'Succeeded',
      message: 'SEK stored in Vault; site identity in place',
    });
  });
});

describe('the status after a failed step', () => {
  const own = { mount: 'secret', path: 'cloudconnect/attacker/evil/sek' };
  const key = (path: string) => ({ mount: 'secret', path, version: 3, fingerprint: 'abcd', storedAt: 't' });
  it.each([
    ['keeps the key known at the site own place', key(own.path), key(own.path)],
    ["drops a key recorded at another place (another clinic's fingerprint)", key('cloudconnect/victim/oak/sek'), undefined],
    ['drops a key recorded in another mount', { ...key(own.path), mount: 'kv' }, undefined],
    ['has no key when none was known', undefined, undefined],
  ])('%s', (_name, known, expected) => {
    const status = failedStatus({ serviceAccountName: 'sa', ...(known ? { encryptionKey: known } : {}) }, 2, 1, own);
    expect(status.encryptionKey).toEqual(expected);
    expect(status).toMatchObject({ serviceAccountName: 'sa', observedGeneration: 2, integrations: 1 });
  });
});
