// A small FHIR R4 validator for what we send: DocumentReference. Not a full profile validator, the
// minimum rules of the R4 base spec we can break by mistake:
// - resourceType, `status` (1..1, current | superseded | entered-in-error), `docStatus` code;
// - `content` 1..*, each with `attachment` 1..1; att-1 (data ⇒ contentType); for a posted document
//   we also require `contentType` and inline `data` (base64) on every attachment;
// - ele-1 in JSON form: no nulls, no empty strings, arrays or objects;
// - coding system/code, Reference.reference shape, identifier value, instant/dateTime formats, id.
// Issues name the element path, never its value (a value may be patient data).

export interface FhirIssue {
  path: string;
  message: string;
}

export class FhirValidationError extends Error {
  readonly issues: FhirIssue[];
  constructor(resourceType: string, issues: FhirIssue[]) {
    super(`${resourceType} is not valid FHIR R4: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
    this.name = 'FhirValidationError';
    this.issues = issues;
  }
}

const DOCUMENT_REFERENCE_STATUS = ['current', 'superseded', 'entered-in-error'];
const COMPOSITION_STATUS = ['preliminary', 'final', 'amended', 'entered-in-error'];
const ID = /^[A-Za-z0-9\-.]{1,64}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const DATE_TIME = /^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?)?)?$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*(\s*;.*)?$/i;
const REFERENCE =
  /^(?:[A-Za-z][A-Za-z0-9]*\/[A-Za-z0-9\-.]{1,64}(\/_history\/[A-Za-z0-9\-.]{1,64})?|#[A-Za-z0-9\-.]+|urn:(uuid|oid):\S+|https?:\/\/\S+)$/;

type Obj = Record<string, unknown>;

const isObject = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** ele-1 in JSON: nulls and empty strings, arrays and objects are not allowed anywhere. */
function checkNoEmpty(value: unknown, path: string, issues: FhirIssue[]): void {
  if (value === null) issues.push({ path, message: 'null is not allowed in FHIR JSON' });
  else if (typeof value === 'string') {
    if (value.trim() === '') issues.push({ path, message: 'must not be empty or only whitespace' });
  } else if (Array.isArray(value)) {
    if (value.length === 0) issues.push({ path, message: 'an empty array is not allowed' });
    for (const [i, v] of value.entries()) checkNoEmpty(v, `${path}[${i}]`, issues);
  } else if (isObject(value)) {
    if (Object.keys(value).length === 0) issues.push({ path, message: 'an empty object is not allowed' });
    for (const [k, v] of Object.entries(value)) checkNoEmpty(v, path ? `${path}.${k}` : k, issues);
  }
}

function checkCodeableConcept(value: unknown, path: string, issues: FhirIssue[]): void {
  if (!isObject(value)) {
    issues.push({ path, message: 'must be a CodeableConcept object' });
    return;
  }
  const coding = value['coding'];
  if (coding === undefined) return;
  if (!Array.isArray(coding)) {
    issues.push({ path: `${path}.coding`, message: 'must be an array' });
    return;
  }
  for (const [i, c] of coding.entries()) {
    const p = `${path}.coding[${i}]`;
    if (!isObject(c)) {
      issues.push({ path: p, message: 'must be a Coding object' });
      continue;
    }
    if (c['system'] !== undefined && (typeof c['system'] !== 'string' || !/^\S+:\S+$/.test(c['system']))) {
      issues.push({ path: `${p}.system`, message: 'must be an absolute URI' });
    }
    if (c['code'] !== undefined && (typeof c['code'] !== 'string' || /^\s|\s$/.test(c['code']))) {
      issues.push({ path: `${p}.code`, message: 'must be a code (no leading or trailing whitespace)' });
    }
    if (c['system'] !== undefined && c['code'] === undefined)
      issues.push({ path: `${p}.code`, message: 'is required when system is given' });
  }
}

function checkReference(value: unknown, path: string, issues: FhirIssue[]): void {
  if (!isObject(value)) return void issues.push({ path, message: 'must be a Reference object' });
  const ref = value['reference'];
  if (ref !== undefined && (typeof ref !== 'string' || !REFERENCE.test(ref))) {
    issues.push({ path: `${path}.reference`, message: 'must be a literal reference such as Patient/123' });
  }
  if (ref === undefined && value['identifier'] === undefined && value['display'] === undefined) {
    issues.push({ path, message: 'must have a reference, an identifier or a display' });
  }
}

function checkIdentifier(value: unknown, path: string, issues: FhirIssue[]): void {
  if (!isObject(value)) return void issues.push({ path, message: 'must be an Identifier object' });
  if (typeof value['value'] !== 'string') issues.push({ path: `${path}.value`, message: 'is required (a string)' });
  if (value['system'] !== undefined && (typeof value['system'] !== 'string' || !/^\S+:\S+$/.test(value['system']))) {
    issues.push({ path: `${path}.system`, message: 'must be an absolute URI' });
  }
}

function checkAttachment(value: unknown, path: string, issues: FhirIssue[]): void {
  if (!isObject(value)) return void issues.push({ path, message: 'is required (an Attachment object)' });
  const { contentType, data, url, size, hash, creation } = value;
  if (contentType === undefined) issues.push({ path: `${path}.contentType`, message: 'is required (att-1, and we always send it)' });
  else if (typeof contentType !== 'string' || !MIME.test(contentType))
    issues.push({ path: `${path}.contentType`, message: 'must be a MIME type' });
  if (data === undefined) {
    if (url === undefined) issues.push({ path: `${path}.data`, message: 'is required: a posted document carries its content inline' });
  } else if (typeof data !== 'string' || data.length % 4 !== 0 || !BASE64.test(data)) {
    issues.push({ path: `${path}.data`, message: 'must be base64' });
  }
  if (size !== undefined && (typeof size !== 'number' || !Number.isInteger(size) || size < 0)) {
    issues.push({ path: `${path}.size`, message: 'must be an unsignedInt' });
  }
  if (hash !== undefined && (typeof hash !== 'string' || !BASE64.test(hash)))
    issues.push({ path: `${path}.hash`, message: 'must be base64' });
  if (creation !== undefined && (typeof creation !== 'string' || !DATE_TIME.test(creation))) {
    issues.push({ path: `${path}.creation`, message: 'must be a dateTime' });
  }
}

/** Issues found in a DocumentReference we are about to send; empty when it is valid. */
export function validateDocumentReference(resource: unknown): FhirIssue[] {
  const issues: FhirIssue[] = [];
  if (!isObject(resource)) return [{ path: 'DocumentReference', message: 'must be a JSON object' }];
  checkNoEmpty(resource, '', issues);
  if (resource['resourceType'] !== 'DocumentReference') issues.push({ path: 'resourceType', message: 'must be DocumentReference' });
  if (resource['id'] !== undefined && (typeof resource['id'] !== 'string' || !ID.test(resource['id']))) {
    issues.push({ path: 'id', message: 'must be 1-64 letters, digits, - or .' });
  }
  const status = resource['status'];
  if (status === undefined) issues.push({ path: 'status', message: 'is required (1..1)' });
  else if (typeof status !== 'string' || !DOCUMENT_REFERENCE_STATUS.includes(status)) {
    issues.push({ path: 'status', message: `must be one of ${DOCUMENT_REFERENCE_STATUS.join(', ')}` });
  }
  const docStatus = resource['docStatus'];
  if (docStatus !== undefined && (typeof docStatus !== 'string' || !COMPOSITION_STATUS.includes(docStatus))) {
    issues.push({ path: 'docStatus', message: `must be one of ${COMPOSITION_STATUS.join(', ')}` });
  }
  const content = resource['content'];
  if (content === undefined) issues.push({ path: 'content', message: 'is required (1..*)' });
  else if (!Array.isArray(content)) issues.push({ path: 'content', message: 'must be an array' });
  else {
    for (const [i, c] of content.entries()) {
      if (!isObject(c)) {
        issues.push({ path: `content[${i}]`, message: 'must be an object' });
        continue;
      }
      checkAttachment(c['attachment'], `content[${i}].attachment`, issues);
      if (c['format'] !== undefined && !isObject(c['format']))
        issues.push({ path: `content[${i}].format`, message: 'must be a Coding object' });
    }
  }
  if (resource['type'] !== undefined) checkCodeableConcept(resource['type'], 'type', issues);
  const category = resource['category'];
  if (category !== undefined) {
    if (!Array.isArray(category)) issues.push({ path: 'category', message: 'must be an array' });
    else for (const [i, c] of category.entries()) checkCodeableConcept(c, `category[${i}]`, issues);
  }
  if (resource['subject'] !== undefined) checkReference(resource['subject'], 'subject', issues);
  const identifier = resource['identifier'];
  if (identifier !== undefined) {
    if (!Array.isArray(identifier)) issues.push({ path: 'identifier', message: 'must be an array' });
    else for (const [i, id] of identifier.entries()) checkIdentifier(id, `identifier[${i}]`, issues);
  }
  const date = resource['date'];
  if (date !== undefined && (typeof date !== 'string' || !INSTANT.test(date)))
    issues.push({ path: 'date', message: 'must be an instant with a time zone' });
  return dedupe(issues);
}

function dedupe(issues: FhirIssue[]): FhirIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.path}\u0000${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Throws FhirValidationError when the DocumentReference breaks an R4 rule. */
export function assertValidDocumentReference(resource: unknown): void {
  const issues = validateDocumentReference(resource);
  if (issues.length > 0) throw new FhirValidationError('DocumentReference', issues);
}
