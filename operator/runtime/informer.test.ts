import { describe, expect, it } from 'vitest';
import { namespacedPath, stripForCache } from './informer.ts';

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

describe('what the cache keeps of an object (stripForCache)', () => {
  it.each([
    [
      'drops managedFields, which no controller reads',
      { metadata: { name: 'a', managedFields: [{ manager: 'kubectl' }], labels: { x: 'y' } } },
      { metadata: { name: 'a', labels: { x: 'y' } } },
    ],
    [
      "drops kubectl's last-applied copy and keeps the other annotations",
      { metadata: { name: 'a', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', keep: 'me' } } },
      { metadata: { name: 'a', annotations: { keep: 'me' } } },
    ],
    [
      'drops an annotations map that held only the last-applied copy',
      { metadata: { name: 'a', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' } } },
      { metadata: { name: 'a' } },
    ],
    [
      'keeps the spec and status as they are',
      { metadata: { name: 'a' }, spec: { n: 1 }, status: { s: 2 } },
      { metadata: { name: 'a' }, spec: { n: 1 }, status: { s: 2 } },
    ],
  ])('%s', (_name, obj, expected) => {
    expect(stripForCache(obj)).toEqual(expected);
  });
});
