// Small wrappers over TypeBox so that every field of the API is declared with its description,
// and so that the shapes the CRD generator cannot express (unions, consts) are never produced.
import { type SchemaOptions, type TSchema, type TString, type TUnsafe, Type } from '@sinclair/typebox';

/** Optional field: absent from `required`; the API server fills in its `default`, if any. */
export const opt = Type.Optional;

/** A CEL rule as Kubernetes stores it in `x-kubernetes-validations`. */
export interface CelRule {
  rule: string;
  message: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
  fieldPath?: string;
  /** oldSelf is optional and the rule also runs on create (a rule that lets an unchanged old value stand). */
  optionalOldSelf?: boolean;
}

export interface FieldOptions extends SchemaOptions {
  rules?: CelRule[];
}

function withRules<T extends SchemaOptions>(options: FieldOptions): T {
  const { rules, ...rest } = options;
  return (rules && rules.length > 0 ? { ...rest, 'x-kubernetes-validations': rules } : rest) as T;
}

export function str(description: string, options: FieldOptions = {}): TString {
  return Type.String(withRules({ description, ...options }));
}

export function int(description: string, options: FieldOptions = {}) {
  return Type.Integer(withRules({ description, ...options }));
}

export function bool(description: string, options: FieldOptions = {}) {
  return Type.Boolean(withRules({ description, ...options }));
}

/** A string enum rendered as `{type: string, enum: [...]}` (TypeBox unions are not structural). */
export function stringEnum<const T extends readonly string[]>(
  values: T,
  description: string,
  options: FieldOptions = {},
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>(withRules({ type: 'string', enum: [...values], description, ...options }));
}

export function obj<P extends Record<string, TSchema>>(properties: P, description: string, options: FieldOptions = {}) {
  return Type.Object(properties, withRules({ description, additionalProperties: false, ...options }));
}

export function list<T extends TSchema>(items: T, description: string, options: FieldOptions = {}) {
  return Type.Array(items, withRules({ description, ...options }));
}

/** A string-to-string map (labels, node selectors). */
export function stringMap(description: string, options: FieldOptions = {}) {
  return Type.Record(Type.String(), Type.String(), withRules({ description, ...options }));
}

/** An RFC 3339 timestamp, as Kubernetes writes them. */
export function timestamp(description: string, options: FieldOptions = {}) {
  return str(description, { format: 'date-time', ...options });
}

/** Kubernetes resource quantities ("500m", "1Gi") stay strings or numbers, as in core/v1. */
export function quantityMap(description: string) {
  return Type.Record(
    Type.String(),
    Type.Unsafe<string | number>({
      'x-kubernetes-int-or-string': true,
      anyOf: [{ type: 'integer' }, { type: 'string' }],
      pattern: '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$',
      description: 'A resource quantity such as 500m or 1Gi.',
    }),
    { description },
  );
}

export const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
/** Go duration strings as Kubernetes and Flux accept them (`30m`, `1h`, `1h30m`). */
export const GO_DURATION = '^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$';

/** A reference to an object of another kind in the same namespace. */
export function localRef(kindDescription: string) {
  return obj(
    {
      name: str(`Name of the ${kindDescription} in the same namespace.`, { minLength: 1, maxLength: 253, pattern: DNS_SUBDOMAIN }),
    },
    `Reference to the ${kindDescription}, in the same namespace.`,
  );
}

export function secretRef(purpose: string, keys: string) {
  return obj(
    {
      name: str('Name of the Secret, in the same namespace as this resource.', {
        minLength: 1,
        maxLength: 253,
        pattern: DNS_SUBDOMAIN,
      }),
    },
    `Secret holding ${purpose}. Keys read: ${keys}. Values never appear in status, events, logs or metrics.`,
  );
}
