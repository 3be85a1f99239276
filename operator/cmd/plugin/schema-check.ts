// Pure: checks one object against a CRD's structural openAPIV3Schema the way the API server does
// (types, required, enums, patterns, lengths, ranges, formats, list-type map/set uniqueness,
// unknown fields as with --validate=strict), with the API server's wording. It cannot evaluate the
// CEL rules (x-kubernetes-validations): it lists the ones that apply to the object instead, so the
// caller can say they were not checked.
import type { JsonSchemaProps } from '../../api/crd-generator.ts';

export type { JsonSchemaProps };

export interface FieldError {
  /** Field path as the API server writes it: spec.emr.accuro.tenantId, spec.supportSites[0].name. */
  field: string;
  message: string;
}

export interface UncheckedRule {
  field: string;
  rule: string;
  message: string;
}

export interface SchemaCheck {
  errors: FieldError[];
  uncheckedRules: UncheckedRule[];
}

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

export function checkAgainstSchema(value: unknown, schema: JsonSchemaProps, root: string): SchemaCheck {
  const out: SchemaCheck = { errors: [], uncheckedRules: [] };
  visit(value, schema, root, out);
  return out;
}

function quote(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function typeMatches(value: unknown, type: string): boolean {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

function visit(value: unknown, schema: JsonSchemaProps, path: string, out: SchemaCheck): void {
  const err = (message: string) => out.errors.push({ field: path, message });
  const intOrString = schema['x-kubernetes-int-or-string'] === true;
  const type = schema.type as string | undefined;
  if (value === null) {
    if (schema.nullable !== true)
      err(`Invalid value: "null": ${path} in body must be of type ${intOrString ? 'integer-or-string' : (type ?? 'object')}: "null"`);
    return;
  }
  if (intOrString) {
    if (typeof value !== 'string' && !(typeof value === 'number' && Number.isInteger(value))) {
      err(`Invalid value: "${typeOf(value)}": ${path} in body must be of type integer-or-string: "${typeOf(value)}"`);
      return;
    }
  } else if (type && !typeMatches(value, type)) {
    err(`Invalid value: "${typeOf(value)}": ${path} in body must be of type ${type}: "${typeOf(value)}"`);
    return;
  }

  for (const r of (schema['x-kubernetes-validations'] as { rule: string; message?: string; fieldPath?: string }[] | undefined) ?? []) {
    // A rule with a fieldPath reports at that field, as the API server does (a root rule about spec.x says spec.x).
    const field = r.fieldPath ? `${path}${r.fieldPath}`.replace(/^\./, '') : path;
    out.uncheckedRules.push({ field, rule: r.rule, message: r.message ?? `failed rule: ${r.rule}` });
  }

  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) {
    err(`Unsupported value: ${quote(value)}: supported values: ${schema.enum.map((v) => quote(v)).join(', ')}`);
  }
  if (typeof value === 'string') checkString(value, schema, path, err);
  if (typeof value === 'number') checkNumber(value, schema, path, err);
  if (Array.isArray(value)) checkArray(value, schema, path, out, err);
  else if (typeof value === 'object') checkObject(value as Record<string, unknown>, schema, path, out);
}

function checkString(value: string, schema: JsonSchemaProps, path: string, err: (m: string) => void): void {
  if (typeof schema.maxLength === 'number' && [...value].length > schema.maxLength)
    err(`Too long: may not be more than ${schema.maxLength} bytes`);
  if (typeof schema.minLength === 'number' && [...value].length < schema.minLength)
    err(`Invalid value: ${quote(value)}: ${path} in body should be at least ${schema.minLength} chars long`);
  if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value))
    err(`Invalid value: ${quote(value)}: ${path} in body should match '${schema.pattern}'`);
  if (schema.format === 'email' && !EMAIL.test(value))
    err(`Invalid value: ${quote(value)}: ${path} in body must be of type email: ${quote(value)}`);
  if (schema.format === 'date-time' && (!DATE_TIME.test(value) || Number.isNaN(Date.parse(value))))
    err(`Invalid value: ${quote(value)}: ${path} in body must be of type date-time: ${quote(value)}`);
}

function checkNumber(value: number, schema: JsonSchemaProps, path: string, err: (m: string) => void): void {
  if (typeof schema.minimum === 'number' && value < schema.minimum)
    err(`Invalid value: ${value}: ${path} in body should be greater than or equal to ${schema.minimum}`);
  if (typeof schema.maximum === 'number' && value > schema.maximum)
    err(`Invalid value: ${value}: ${path} in body should be less than or equal to ${schema.maximum}`);
}

function checkArray(value: unknown[], schema: JsonSchemaProps, path: string, out: SchemaCheck, err: (m: string) => void): void {
  if (typeof schema.maxItems === 'number' && value.length > schema.maxItems)
    err(`Too many: ${value.length}: must have at most ${schema.maxItems} items`);
  if (typeof schema.minItems === 'number' && value.length < schema.minItems)
    err(`Invalid value: ${value.length}: ${path} in body should have at least ${schema.minItems} items`);
  const items = schema.items as JsonSchemaProps | undefined;
  if (items) for (const [i, v] of value.entries()) visit(v, items, `${path}[${i}]`, out);
  const listType = schema['x-kubernetes-list-type'];
  const seen = new Set<string>();
  value.forEach((v, i) => {
    let key: string;
    if (listType === 'map') {
      const keys = (schema['x-kubernetes-list-map-keys'] as string[] | undefined) ?? [];
      const obj = (v ?? {}) as Record<string, unknown>;
      key = JSON.stringify(Object.fromEntries(keys.map((k) => [k, obj[k]])));
    } else if (listType === 'set') key = JSON.stringify(v);
    else return;
    if (seen.has(key)) out.errors.push({ field: `${path}[${i}]`, message: `Duplicate value: ${key}` });
    seen.add(key);
  });
}

function checkObject(value: Record<string, unknown>, schema: JsonSchemaProps, path: string, out: SchemaCheck): void {
  const properties = schema.properties as Record<string, JsonSchemaProps> | undefined;
  const additional = schema.additionalProperties as JsonSchemaProps | boolean | undefined;
  for (const name of (schema.required as string[] | undefined) ?? []) {
    if (value[name] === undefined) out.errors.push({ field: join(path, name), message: 'Required value' });
  }
  if (typeof schema.maxProperties === 'number' && Object.keys(value).length > schema.maxProperties) {
    out.errors.push({ field: path, message: `Too many: ${Object.keys(value).length}: must have at most ${schema.maxProperties} items` });
  }
  for (const [name, v] of Object.entries(value)) {
    const child = join(path, name);
    if (properties?.[name]) visit(v, properties[name], child, out);
    else if (additional && typeof additional === 'object') visit(v, additional, child, out);
    else if (properties && schema['x-kubernetes-preserve-unknown-fields'] !== true)
      out.errors.push({ field: child, message: `unknown field "${child}"` });
  }
}

function join(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}
