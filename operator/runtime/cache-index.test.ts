import { describe, expect, it } from 'vitest';
import { CacheIndex, type IndexDefinition, referencedKeys } from './cache-index.ts';

type Obj = { metadata: { name: string; namespace: string }; spec: { refs: string[] } };

const obj = (namespace: string, name: string, ...refs: string[]): Obj => ({ metadata: { name, namespace }, spec: { refs } });
const BY_REF: IndexDefinition<Obj> = { name: 'spec.refs', valuesOf: (o) => o.spec.refs };
const names = (objects: Obj[]) => objects.map((o) => o.metadata.name).sort();

describe('a cache index (objects by namespace and value, kept by the cache events)', () => {
  it('files the objects it is built from under each of their values, per namespace', () => {
    const index = new CacheIndex(BY_REF, [obj('a', 's1', 'x'), obj('a', 's2', 'x', 'y'), obj('b', 's3', 'x'), obj('a', 's4')]);
    expect(names(index.get('a', 'x'))).toEqual(['s1', 's2']);
    expect(names(index.get('a', 'y'))).toEqual(['s2']);
    expect(names(index.get('b', 'x'))).toEqual(['s3']);
    expect(index.get('b', 'y')).toEqual([]);
  });

  it('moves an updated object from its old values to its new ones, and returns the new object', () => {
    const index = new CacheIndex(BY_REF, [obj('a', 's1', 'x')]);
    const updated = obj('a', 's1', 'y');
    index.put(updated);
    expect(index.get('a', 'x')).toEqual([]);
    expect(index.get('a', 'y')).toEqual([updated]);
  });

  it('replaces an object updated under the same value (a lookup never returns the stale copy)', () => {
    const index = new CacheIndex(BY_REF, [obj('a', 's1', 'x')]);
    const updated = obj('a', 's1', 'x');
    index.put(updated);
    expect(index.get('a', 'x')).toHaveLength(1);
    expect(index.get('a', 'x')[0]).toBe(updated);
  });

  it('forgets a deleted object by its name, even when the deleted copy names other values', () => {
    const index = new CacheIndex(BY_REF, [obj('a', 's1', 'x'), obj('a', 's2', 'x')]);
    index.remove(obj('a', 's1', 'z'));
    expect(names(index.get('a', 'x'))).toEqual(['s2']);
  });

  it('takes an object out when an update leaves it no value, and ignores the removal of one it never held', () => {
    const index = new CacheIndex(BY_REF, [obj('a', 's1', 'x')]);
    index.put(obj('a', 's1'));
    index.remove(obj('a', 'never'));
    expect(index.get('a', 'x')).toEqual([]);
  });

  it('keeps same-named objects of two namespaces apart', () => {
    const index = new CacheIndex(BY_REF, [obj('a', 's1', 'x'), obj('b', 's1', 'x')]);
    index.remove(obj('a', 's1', 'x'));
    expect(index.get('a', 'x')).toEqual([]);
    expect(index.get('b', 'x')).toEqual([obj('b', 's1', 'x')]);
  });
});

describe('referencedKeys (a related object mapped to the primaries it names, by the index definition)', () => {
  it.each([
    ['names each value in the object’s namespace', obj('a', 's1', 'x', 'y'), ['a/x', 'a/y']],
    ['names nothing for an object the index does not file', obj('a', 's1'), []],
  ])('%s', (_n, o, keys) => {
    expect(referencedKeys(BY_REF, o)).toEqual(keys);
  });
});
