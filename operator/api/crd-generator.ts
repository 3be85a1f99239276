// Turns the typed API (TypeBox schemas) into CustomResourceDefinitions. Pure: no I/O.
// Only the JSON-Schema keywords that a structural CRD schema accepts are copied; anything else
// (a TypeBox union, a const) is an error, so the API cannot drift into shapes Kubernetes rejects.
import type { TSchema } from '@sinclair/typebox';
import { CATEGORY, GROUP, type KindDefinition, VERSION } from './v1alpha1/index.ts';

export type JsonSchemaProps = { [key: string]: unknown };

const COPIED = new Set([
  'type',
  'description',
  'format',
  'default',
  'enum',
  'pattern',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'required',
  'nullable',
  'x-kubernetes-validations',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-int-or-string',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-map-type',
]);
const STRUCTURAL = new Set(['properties', 'items', 'additionalProperties', 'patternProperties', 'anyOf']);

export class SchemaError extends Error {
  readonly path: string;
  constructor(path: string, detail: string) {
    super(`${path}: ${detail}`);
    this.path = path;
    this.name = 'SchemaError';
  }
}

/** Converts one TypeBox schema into an OpenAPI v3 structural schema, requiring a description on every field. */
export function toStructural(schema: TSchema, path: string): JsonSchemaProps {
  const source = schema as unknown as Record<string, unknown>;
  const out: JsonSchemaProps = {};
  // type and description first: the generated YAML reads like the API reference.
  const keys = Object.keys(source).sort((a, b) => rank(a) - rank(b));
  for (const key of keys) {
    const value = source[key];
    if (COPIED.has(key)) {
      if (key === 'required' && Array.isArray(value) && value.length === 0) continue;
      out[key] = value;
    } else if (!STRUCTURAL.has(key) && key !== '$id') {
      throw new SchemaError(path, `keyword '${key}' cannot be expressed in a structural CRD schema`);
    }
  }
  if (typeof out.description !== 'string' || out.description.trim() === '') {
    throw new SchemaError(path, 'every field needs a description (kubectl explain shows it)');
  }
  if (source['x-kubernetes-int-or-string'] === true) {
    delete out.type;
    return out;
  }
  if (source.anyOf !== undefined) throw new SchemaError(path, 'anyOf is only allowed for int-or-string');
  if (source.type === 'object') {
    const properties = source.properties as Record<string, TSchema> | undefined;
    const patternProperties = source.patternProperties as Record<string, TSchema> | undefined;
    if (properties) {
      out.properties = Object.fromEntries(
        Object.entries(properties).map(([name, child]) => [name, toStructural(child, `${path}.${name}`)]),
      );
    }
    if (patternProperties) {
      // TypeBox renders Record<string, X> as patternProperties; Kubernetes wants additionalProperties.
      const [only, ...more] = Object.values(patternProperties);
      if (!only || more.length > 0) throw new SchemaError(path, 'maps must have a single value schema');
      out.additionalProperties = toStructural(withDescription(only, `Value of ${path}.`), `${path}[*]`);
    }
  }
  if (source.type === 'array') {
    out.items = toStructural(source.items as TSchema, `${path}[*]`);
  }
  return out;
}

/** `type` first, then `description`, then the rest. */
function rank(key: string): number {
  if (key === 'type') return 0;
  if (key === 'description') return 1;
  return 2;
}

function withDescription(schema: TSchema, description: string): TSchema {
  return ('description' in schema ? schema : { ...schema, description }) as TSchema;
}

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string> };
  spec: JsonSchemaProps;
}

export function toCrd(def: KindDefinition): CustomResourceDefinition {
  const schema: JsonSchemaProps = {
    type: 'object',
    description: def.description,
    required: ['spec'],
    properties: {
      apiVersion: { type: 'string', description: 'API version of this object: cloudconnect.dev/v1alpha1.' },
      kind: { type: 'string', description: `Kind of this object: ${def.kind}.` },
      // The API server forbids anything but type here (name/generateName rules are its own).
      metadata: { type: 'object' },
      spec: toStructural(def.spec, 'spec'),
      status: toStructural(def.status, 'status'),
    },
    ...(def.rules && def.rules.length > 0 ? { 'x-kubernetes-validations': def.rules } : {}),
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${def.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/name': 'cloudconnect-operator', 'app.kubernetes.io/part-of': 'cloudconnect' },
    },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: def.shortNames,
        categories: [CATEGORY],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: def.printerColumns,
          schema: { openAPIV3Schema: schema },
        },
      ],
    },
  };
}
