import { describe, expect, it } from 'vitest';
import { type EmrIdentity, findConflicts } from './conflicts.ts';

const id = (key: string, site: string, apiUser: string, endpoint = 'https://accuro.example|MAPLE'): EmrIdentity => ({
  key,
  site,
  endpoint,
  apiUser,
});

describe('findConflicts', () => {
  it.each([
    [
      'reports both integrations of two sites sharing one API user',
      [id('a/x', 'a/s1', 'OceanAPI'), id('b/y', 'b/s2', 'oceanapi')],
      { 'a/x': ['b/y'], 'b/y': ['a/x'] },
    ],
    ['sees no conflict between distinct API users', [id('a/x', 'a/s1', 'U1'), id('b/y', 'b/s2', 'U2')], {}],
    [
      'sees no conflict for the same user on another tenant',
      [id('a/x', 'a/s1', 'U1'), id('b/y', 'b/s2', 'U1', 'https://accuro.example|OAK')],
      {},
    ],
    ['sees no conflict between two integrations of the same site', [id('a/x', 'a/s1', 'U1'), id('a/y', 'a/s1', 'U1')], {}],
  ] as const)('%s', (_n, identities, expected) => {
    expect(Object.fromEntries(findConflicts([...identities]))).toEqual(expected);
  });
});
