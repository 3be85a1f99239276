// Fills the API defaults from the typed schema (the same source as the CRD defaults), for objects
// stored before a default existed and for objects built in tests.
//
// A cached object is never changed in place (the cache replaces it when it changes), so its spec is
// defaulted once: the result is kept for that very spec object and frozen, so that no caller can
// change what the next caller reads (a write to it throws). Defaulting (typebox and structuredClone)
// was a few percent of the operator's CPU at a fleet's shared tick, done again by every reconcile.

import type { TObject } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

const defaulted = new WeakMap<TObject, WeakMap<object, unknown>>();

export function withDefaults<T>(schema: TObject, spec: unknown): T {
  if (spec === null || typeof spec !== 'object') return deepFreeze(Value.Default(schema, {})) as T;
  let bySpec = defaulted.get(schema);
  if (!bySpec) {
    bySpec = new WeakMap();
    defaulted.set(schema, bySpec);
  }
  if (!bySpec.has(spec)) bySpec.set(spec, deepFreeze(Value.Default(schema, structuredClone(spec))));
  return bySpec.get(spec) as T;
}

function deepFreeze<V>(value: V): V {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
