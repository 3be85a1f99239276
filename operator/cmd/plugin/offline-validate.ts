// Pure: validates one parsed manifest document offline, against the CRD schema generated from the
// typed API (the same toCrd() that writes crds/*.yaml, so there is nothing to drift). Only
// cloudconnect.dev kinds are checked; other kinds are left to the API server.
import { type JsonSchemaProps, toCrd } from '../../api/crd-generator.ts';
import { API_VERSION, GROUP, KINDS, type KindDefinition } from '../../api/v1alpha1/index.ts';
import { checkAgainstSchema, type FieldError, type UncheckedRule } from './schema-check.ts';

export interface DocumentRef {
  apiVersion?: string;
  kind?: string;
  name?: string;
  namespace?: string;
}

export interface OfflineResult {
  ref: DocumentRef;
  /** Not a kind this plugin knows the schema of: nothing was checked. */
  skipped?: string;
  errors: FieldError[];
  uncheckedRules: UncheckedRule[];
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const schemas = new Map<string, JsonSchemaProps>();
function schemaOf(def: KindDefinition): JsonSchemaProps {
  let schema = schemas.get(def.kind);
  if (!schema) {
    const versions = toCrd(def).spec.versions as { schema: { openAPIV3Schema: JsonSchemaProps } }[];
    const first = versions[0];
    if (!first) throw new Error(`the generated CRD of ${def.kind} has no version`);
    schema = first.schema.openAPIV3Schema;
    schemas.set(def.kind, schema);
  }
  return schema;
}

export function refOf(doc: unknown): DocumentRef {
  const o = (doc && typeof doc === 'object' ? doc : {}) as {
    apiVersion?: unknown;
    kind?: unknown;
    metadata?: { name?: unknown; namespace?: unknown };
  };
  const s = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const ref: DocumentRef = {};
  const apiVersion = s(o.apiVersion);
  const kind = s(o.kind);
  const name = s(o.metadata?.name);
  const namespace = s(o.metadata?.namespace);
  if (apiVersion) ref.apiVersion = apiVersion;
  if (kind) ref.kind = kind;
  if (name) ref.name = name;
  if (namespace) ref.namespace = namespace;
  return ref;
}

export function validateOffline(doc: unknown): OfflineResult {
  const ref = refOf(doc);
  const result: OfflineResult = { ref, errors: [], uncheckedRules: [] };
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    result.errors.push({ field: '<document>', message: 'a manifest must be a YAML mapping with apiVersion, kind and metadata' });
    return result;
  }
  if (!ref.apiVersion) result.errors.push({ field: 'apiVersion', message: 'Required value' });
  if (!ref.kind) result.errors.push({ field: 'kind', message: 'Required value' });
  if (result.errors.length > 0) return result;
  const def = KINDS.find((k) => k.kind === ref.kind);
  if (ref.apiVersion?.startsWith(`${GROUP}/`) && ref.apiVersion !== API_VERSION) {
    result.errors.push({ field: 'apiVersion', message: `Unsupported value: "${ref.apiVersion}": supported values: "${API_VERSION}"` });
    return result;
  }
  if (ref.apiVersion !== API_VERSION || !def) {
    if (ref.apiVersion === API_VERSION)
      result.errors.push({
        field: 'kind',
        message: `Unsupported value: "${ref.kind}": supported values: ${KINDS.map((k) => `"${k.kind}"`).join(', ')}`,
      });
    else result.skipped = `${ref.apiVersion} ${ref.kind} is not a cloudconnect.dev kind; only the API server can check it`;
    return result;
  }
  const obj = doc as Record<string, unknown>;
  result.errors.push(...checkMetadata(obj.metadata));
  // Status is ignored on create/update (status subresource), so it is not checked.
  const { status: _status, metadata: _metadata, ...rest } = obj;
  const checked = checkAgainstSchema(rest, schemaOf(def), '');
  result.errors.push(...checked.errors);
  result.uncheckedRules.push(...checked.uncheckedRules.map((r) => ({ ...r, field: r.field || '<root>' })));
  return result;
}

function checkMetadata(metadata: unknown): FieldError[] {
  if (!metadata || typeof metadata !== 'object')
    return [{ field: 'metadata.name', message: 'Required value: name or generateName is required' }];
  const m = metadata as { name?: unknown; generateName?: unknown; namespace?: unknown };
  const errors: FieldError[] = [];
  if (m.name === undefined && m.generateName === undefined)
    errors.push({ field: 'metadata.name', message: 'Required value: name or generateName is required' });
  if (m.name !== undefined && (typeof m.name !== 'string' || m.name.length > 253 || !DNS_SUBDOMAIN.test(m.name))) {
    errors.push({
      field: 'metadata.name',
      message: `Invalid value: ${JSON.stringify(m.name)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
    });
  }
  if (m.namespace !== undefined && (typeof m.namespace !== 'string' || m.namespace.length > 63 || !DNS_LABEL.test(m.namespace))) {
    errors.push({
      field: 'metadata.namespace',
      message: `Invalid value: ${JSON.stringify(m.namespace)}: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'`,
    });
  }
  return errors;
}

/** How a field error is printed: the API server's `field: message`, or kubectl's unknown-field line. */
export function formatFieldError(e: FieldError): string {
  return e.message.startsWith('unknown field') ? e.message : `${e.field}: ${e.message}`;
}
