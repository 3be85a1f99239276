// Fills the API defaults from the typed schema (the same source as the CRD defaults), for objects
// stored before a default existed and for objects built in tests.

import type { TObject } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

export function withDefaults<T>(schema: TObject, spec: unknown): T {
  return Value.Default(schema, structuredClone(spec ?? {})) as T;
}
