import { describe, expect, it } from 'vitest';
import { namespacedPath } from './informer.ts';

describe('namespacedPath (the collection one namespace-scoped list-watch of WATCH_NAMESPACES uses)', () => {
  it.each([
    [
      'puts a custom resource collection in the namespace',
      '/apis/cloudconnect.dev/v1alpha1/oceansites',
      '/apis/cloudconnect.dev/v1alpha1/namespaces/clinic-maple/oceansites',
    ],
    ['puts a core collection in the namespace', '/api/v1/secrets', '/api/v1/namespaces/clinic-maple/secrets'],
    ['puts a grouped collection in the namespace', '/apis/batch/v1/jobs', '/apis/batch/v1/namespaces/clinic-maple/jobs'],
  ])('%s', (_name, path, expected) => {
    expect(namespacedPath(path, 'clinic-maple')).toBe(expected);
  });
});
