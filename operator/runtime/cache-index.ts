// Secondary indexes of a list-watch cache (client-go's Indexers, controller-runtime's field indexes):
// "the schedules of integration x", "the Jobs of schedule y" answered from a map instead of a filter
// over every cached object of the namespace. A filter per event is O(n) per event, so O(n²) for a
// namespace of n related objects (a support team's namespace of 5,000 integrations made it most of the
// operator's CPU). An index is built from the cache the first time it is asked, then kept by the
// cache's own add, update and delete events, before any other handler sees them.

/** What an index needs of an object. */
export interface IndexedObject {
  metadata?: { name?: string; namespace?: string };
}

/** Names an index and says the values an object is filed under (none: not in this index). */
export interface IndexDefinition<T> {
  readonly name: string;
  readonly valuesOf: (obj: T) => readonly string[];
}

/** One index of one cache: objects by namespace and value. */
export class CacheIndex<T extends IndexedObject> {
  private readonly definition: IndexDefinition<T>;
  /** `namespace/value` → the objects filed under it, by name. */
  private readonly byValue = new Map<string, Map<string, T>>();
  /** `namespace/name` → the values the object is filed under now (an update may change them). */
  private readonly filed = new Map<string, readonly string[]>();

  constructor(definition: IndexDefinition<T>, objects: Iterable<T>) {
    this.definition = definition;
    for (const obj of objects) this.put(obj);
  }

  /** Files an added or updated object under its values, and out of the ones it had. */
  put(obj: T): void {
    this.remove(obj);
    const values = this.definition.valuesOf(obj);
    if (values.length === 0) return;
    const { namespace, name } = identity(obj);
    this.filed.set(`${namespace}/${name}`, values);
    for (const value of values) {
      const key = `${namespace}/${value}`;
      let objects = this.byValue.get(key);
      if (!objects) {
        objects = new Map();
        this.byValue.set(key, objects);
      }
      objects.set(name, obj);
    }
  }

  /** Takes a deleted object (or an updated one's old values) out of the index. */
  remove(obj: T): void {
    const { namespace, name } = identity(obj);
    const values = this.filed.get(`${namespace}/${name}`);
    if (!values) return;
    this.filed.delete(`${namespace}/${name}`);
    for (const value of values) {
      const key = `${namespace}/${value}`;
      const objects = this.byValue.get(key);
      objects?.delete(name);
      if (objects?.size === 0) this.byValue.delete(key);
    }
  }

  /** The objects of `namespace` filed under `value`. */
  get(namespace: string, value: string): T[] {
    const objects = this.byValue.get(`${namespace}/${value}`);
    return objects ? [...objects.values()] : [];
  }
}

/**
 * The keys (`namespace/value`) of the objects `obj` refers to through `index`: the mapping of a
 * related object to the primaries it names, from the same definition the index files it by.
 */
export function referencedKeys<T extends IndexedObject>(index: IndexDefinition<T>, obj: T): string[] {
  const namespace = obj.metadata?.namespace ?? '';
  return index.valuesOf(obj).map((value) => `${namespace}/${value}`);
}

function identity(obj: IndexedObject): { namespace: string; name: string } {
  return { namespace: obj.metadata?.namespace ?? '', name: obj.metadata?.name ?? '' };
}
