import { describe, expect, it } from 'vitest';
import type { ConditionInput } from '../../runtime/conditions.ts';
import { named, newProvidersCondition, type Providers, providersCondition, providersSeen } from './providers.ts';

const authenticated: ConditionInput = { type: 'Authenticated', status: 'True', reason: 'Authenticated', message: 'ok' };
const failing: ConditionInput = { type: 'Authenticated', status: 'False', reason: 'InvalidCredentials', message: 'no' };
const seen = (p: Partial<Providers>): Providers => ({ discovered: 6, missing: [], ...p });

describe('what a check saw of the providers', () => {
  it.each([
    [
      'counts the providers the API user sees and names the configured ones it does not',
      ['p1', 'p2'],
      ['p1', 'p3'],
      undefined,
      false,
      { discovered: 2, missing: ['p3'], visible: ['p1', 'p2'], notSynced: ['p2'] },
    ],
    ['misses none when nothing is configured', ['p1', 'p1'], [], undefined, false, { discovered: 1, missing: [], visible: ['p1'] }],
    [
      'names the providers that vanished since the last check while every provider is synced',
      ['p1'],
      [],
      { visible: ['p1', 'p2', 'p3'] },
      false,
      { discovered: 1, missing: [], visible: ['p1'], vanished: ['p2', 'p3'] },
    ],
    [
      'keeps naming a vanished provider at the next check',
      ['p1'],
      [],
      { visible: ['p1'], vanished: ['p2'] },
      false,
      { discovered: 1, missing: [], visible: ['p1'], vanished: ['p2'] },
    ],
    [
      'forgets a vanished provider once it is visible again',
      ['p1', 'p2'],
      [],
      { visible: ['p1'], vanished: ['p2'] },
      false,
      { discovered: 2, missing: [], visible: ['p1', 'p2'] },
    ],
    [
      'forgets the vanished providers acknowledged by a spec edit, but still sees one that vanished since',
      ['p1'],
      [],
      { visible: ['p1', 'p3'], vanished: ['p2'] },
      true,
      { discovered: 1, missing: [], visible: ['p1'], vanished: ['p3'] },
    ],
    [
      'leaves vanished configured providers to missing when the spec lists the providers to sync',
      ['p1'],
      ['p1', 'p2'],
      { visible: ['p1', 'p2'] },
      false,
      { discovered: 1, missing: ['p2'], visible: ['p1'] },
    ],
    [
      'lists the providers the EMR has that the spec does not sync, sorted',
      ['p9', 'p1', 'p4'],
      ['p1'],
      undefined,
      false,
      { discovered: 3, missing: [], visible: ['p1', 'p4', 'p9'], notSynced: ['p4', 'p9'] },
    ],
  ] as const)('%s', (_n, listed, configured, before, specEdited, expected) => {
    expect(providersSeen(listed, configured, before, specEdited)).toEqual(expected);
  });

  it('caps each list at 500 ids', () => {
    const listed = Array.from({ length: 600 }, (_, i) => `p${String(i).padStart(3, '0')}`);
    const p = providersSeen(listed, ['p000'], undefined, false);
    expect(p.discovered).toBe(600);
    expect(p.visible).toHaveLength(500);
    expect(p.notSynced).toHaveLength(500);
  });
});

describe('ProvidersVisible', () => {
  it.each([
    [
      'is True with the count when every configured provider is visible',
      authenticated,
      seen({}),
      undefined,
      'True',
      'AllVisible',
      '6 provider(s) visible',
    ],
    [
      'is False naming the configured providers the API user cannot see',
      authenticated,
      seen({ missing: ['p1', 'p3'] }),
      'FHIR',
      'False',
      'ProvidersNotVisible',
      'provider(s) p1, p3:',
    ],
    [
      'points an Accuro clinic at the provider permissions of the API user',
      authenticated,
      seen({ missing: ['p1'] }),
      'Accuro',
      'False',
      'ProvidersNotVisible',
      "tab 'Provider Permissions'",
    ],
    [
      'is False naming the providers that vanished after a permission change',
      authenticated,
      seen({ vanished: ['p2'] }),
      'Accuro',
      'False',
      'ProvidersVanished',
      'no longer sees provider(s) p2, seen at an earlier check',
    ],
  ] as const)('%s', (_n, auth, providers, emr, status, reason, message) => {
    const c = providersCondition(auth, providers, emr);
    expect(c).toMatchObject({ type: 'ProvidersVisible', status, reason });
    expect(c?.message).toContain(message);
  });

  it.each([
    ['is not reported while authentication fails', failing, seen({ missing: ['p1'] })],
    ['is not reported before the providers were listed', authenticated, undefined],
  ] as const)('%s', (_n, auth, providers) => {
    expect(providersCondition(auth, providers)).toBeUndefined();
  });
});

describe('NewProvidersAvailable', () => {
  it.each([
    [
      'is True listing the providers the spec does not sync',
      seen({ notSynced: ['p4', 'p9'] }),
      'True',
      'ProvidersNotSynced',
      '2 provider(s) that spec.settings.syncProviderIds does not sync: p4, p9',
    ],
    ['is False when every provider is synced', seen({}), 'False', 'AllProvidersSynced', 'Every provider the API user sees is synced'],
  ] as const)('%s', (_n, providers, status, reason, message) => {
    const c = newProvidersCondition(authenticated, providers);
    expect(c).toMatchObject({ type: 'NewProvidersAvailable', status, reason });
    expect(c?.message).toContain(message);
  });

  it('is not reported while authentication fails', () => {
    expect(newProvidersCondition(failing, seen({ notSynced: ['p4'] }))).toBeUndefined();
  });

  it('names at most 20 providers in a message, then says how many more', () => {
    const ids = Array.from({ length: 23 }, (_, i) => `p${i}`);
    expect(named(ids)).toMatch(/p19 and 3 more$/);
    expect(named(ids)).not.toContain('p20');
  });
});
