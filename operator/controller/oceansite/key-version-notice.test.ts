import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { SEK_VERSION_ANNOTATION } from '../../api/v1alpha1/index.ts';
import { podsToTell } from './key-version-notice.ts';

function pod(name: string, phase: string, told?: string, deleting = false): V1Pod {
  return {
    metadata: {
      name,
      ...(told !== undefined ? { annotations: { [SEK_VERSION_ANNOTATION]: told } } : {}),
      ...(deleting ? { deletionTimestamp: new Date() } : {}),
    },
    status: { phase },
  };
}

describe('which pods are told about SEK version 3', () => {
  it.each([
    ['a running pod that uses version 2 is told', pod('a', 'Running', '2'), true],
    ['a pending pod is told, so it starts with the new version', pod('b', 'Pending', '2'), true],
    ['a pod without the annotation is told', pod('c', 'Running'), true],
    ['a pod with a garbled annotation is told', pod('d', 'Running', 'x'), true],
    ['a pod already told version 3 is left alone (no write)', pod('e', 'Running', '3'), false],
    ['a pod told a later version is not moved back', pod('f', 'Running', '4'), false],
    ['a finished pod is left alone', pod('g', 'Succeeded', '2'), false],
    ['a failed pod is left alone', pod('h', 'Failed', '2'), false],
    ['a pod being deleted is left alone', pod('i', 'Running', '2', true), false],
  ])('%s', (_name, p, expected) => {
    expect(podsToTell([p], 3).length === 1).toBe(expected);
  });
});
