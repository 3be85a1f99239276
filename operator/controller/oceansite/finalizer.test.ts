import { describe, expect, it } from 'vitest';
import { SITE_FINALIZER } from '../../api/v1alpha1/index.ts';
import { withFinalizer, withoutFinalizer } from './finalizer.ts';

describe('adding the finalizer', () => {
  it.each([
    ['adds it to a site without finalizers', undefined, [SITE_FINALIZER]],
    ['adds it after the finalizers of others', ['other'], ['other', SITE_FINALIZER]],
    ['writes nothing when it is there', ['other', SITE_FINALIZER], undefined],
  ])('%s', (_name, finalizers, expected) => {
    expect(withFinalizer(finalizers)).toEqual(expected);
  });
});

describe('removing the finalizer', () => {
  it.each([
    ['keeps the finalizers of others', ['other', SITE_FINALIZER], ['other']],
    ['leaves an empty list', [SITE_FINALIZER], []],
    ['is an empty list without finalizers', undefined, []],
  ])('%s', (_name, finalizers, expected) => {
    expect(withoutFinalizer(finalizers)).toEqual(expected);
  });
});
