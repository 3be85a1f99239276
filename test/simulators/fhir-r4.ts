// The FHIR simulator's own R4 validation of what a client writes (Patient, Appointment,
// DocumentReference), written from the R4 specification (hl7.org/fhir/R4: datatypes.html for the
// primitive regexes, json.html for the JSON rules, each resource's element table and invariants),
// independently of the adapter's validator (operator/internal/emr/fhir-validate.ts is never
// imported). What it checks:
//   - every element is one the resource or datatype defines (an unknown name is an error, as a
//     strict server's parser says), with its cardinality: a 0..* element is always an array, a 0..1
//     never one, a 1..x element present;
//   - primitives match the spec's regexes (id, instant, dateTime, date, code, uri, base64Binary,
//     positiveInt, unsignedInt, boolean, string), and calendar dates exist;
//   - codes of required bindings are in their value sets (gender, statuses, ContactPoint system, …);
//   - ele-1 (no empty object, array or string; no null), ext-1 (an extension has a value[x] or
//     extensions, not both; url required), att-1 (attachment data needs a contentType), app-1, app-2,
//     app-3, app-4 (Appointment).
// Issues name the element (FHIRPath-like `expression`), never its value: resources carry PHI.
// What it does not check: terminology beyond required bindings, profiles, references' targets
// (the simulator's routes check that the Patient and Practitioner exist), xhtml narrative content.

export interface R4Issue {
  code: 'structure' | 'required' | 'value' | 'code-invalid' | 'invariant';
  expression: string;
  diagnostics: string;
}

const YEAR = '([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)';
const TIME = '([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?';
const ZONE = '(Z|(\\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))';
const MONTH_DAY = '-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))';
const PRIMITIVES: Record<string, RegExp> = {
  id: /^[A-Za-z0-9\-.]{1,64}$/,
  instant: new RegExp(`^${YEAR}${MONTH_DAY}T${TIME}${ZONE}$`),
  dateTime: new RegExp(`^${YEAR}(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T${TIME}${ZONE})?)?)?$`),
  date: new RegExp(`^${YEAR}(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?$`),
  code: /^[^\s]+(\s[^\s]+)*$/,
  uri: /^\S*$/,
  url: /^\S*$/,
  canonical: /^\S*$/,
  base64Binary: /^(\s*([0-9a-zA-Z+/=]){4}\s*)+$/,
  string: /^[ \r\n\t\S]+$/,
  markdown: /^[ \r\n\t\S]+$/,
  xhtml: /^[\s\S]+$/,
};

/** An element: its type, cardinality and, for a required binding, the codes. */
interface El {
  t: string;
  min?: 1;
  many?: true;
  codes?: readonly string[];
}
const el = (t: string, opts: Omit<El, 't'> = {}): El => ({ t, ...opts });
const many = (t: string, opts: Omit<El, 't' | 'many'> = {}): El => ({ t, many: true, ...opts });

/** Elements every Element has, and every DomainResource. */
const ELEMENT: Record<string, El> = { id: el('string'), extension: many('Extension') };
const BACKBONE: Record<string, El> = { ...ELEMENT, modifierExtension: many('Extension') };
const DOMAIN_RESOURCE: Record<string, El> = {
  resourceType: el('code', { min: 1 }),
  id: el('id'),
  meta: el('Meta'),
  implicitRules: el('uri'),
  language: el('code'),
  text: el('Narrative'),
  extension: many('Extension'),
  modifierExtension: many('Extension'),
};

const TYPES: Record<string, Record<string, El>> = {
  Meta: {
    ...ELEMENT,
    versionId: el('id'),
    lastUpdated: el('instant'),
    source: el('uri'),
    profile: many('canonical'),
    security: many('Coding'),
    tag: many('Coding'),
  },
  Narrative: {
    ...ELEMENT,
    status: el('code', { min: 1, codes: ['generated', 'extensions', 'additional', 'empty'] }),
    div: el('xhtml', { min: 1 }),
  },
  Coding: { ...ELEMENT, system: el('uri'), version: el('string'), code: el('code'), display: el('string'), userSelected: el('boolean') },
  CodeableConcept: { ...ELEMENT, coding: many('Coding'), text: el('string') },
  Period: { ...ELEMENT, start: el('dateTime'), end: el('dateTime') },
  Identifier: {
    ...ELEMENT,
    use: el('code', { codes: ['usual', 'official', 'temp', 'secondary', 'old'] }),
    type: el('CodeableConcept'),
    system: el('uri'),
    value: el('string'),
    period: el('Period'),
    assigner: el('Reference'),
  },
  Reference: { ...ELEMENT, reference: el('string'), type: el('uri'), identifier: el('Identifier'), display: el('string') },
  HumanName: {
    ...ELEMENT,
    use: el('code', { codes: ['usual', 'official', 'temp', 'nickname', 'anonymous', 'old', 'maiden'] }),
    text: el('string'),
    family: el('string'),
    given: many('string'),
    prefix: many('string'),
    suffix: many('string'),
    period: el('Period'),
  },
  ContactPoint: {
    ...ELEMENT,
    system: el('code', { codes: ['phone', 'fax', 'email', 'pager', 'url', 'sms', 'other'] }),
    value: el('string'),
    use: el('code', { codes: ['home', 'work', 'temp', 'old', 'mobile'] }),
    rank: el('positiveInt'),
    period: el('Period'),
  },
  Address: {
    ...ELEMENT,
    use: el('code', { codes: ['home', 'work', 'temp', 'old', 'billing'] }),
    type: el('code', { codes: ['postal', 'physical', 'both'] }),
    text: el('string'),
    line: many('string'),
    city: el('string'),
    district: el('string'),
    state: el('string'),
    postalCode: el('string'),
    country: el('string'),
    period: el('Period'),
  },
  Attachment: {
    ...ELEMENT,
    contentType: el('code'),
    language: el('code'),
    data: el('base64Binary'),
    url: el('url'),
    size: el('unsignedInt'),
    hash: el('base64Binary'),
    title: el('string'),
    creation: el('dateTime'),
  },
  AppointmentParticipant: {
    ...BACKBONE,
    type: many('CodeableConcept'),
    actor: el('Reference'),
    required: el('code', { codes: ['required', 'optional', 'information-only'] }),
    status: el('code', { min: 1, codes: ['accepted', 'declined', 'tentative', 'needs-action'] }),
    period: el('Period'),
  },
  DocumentReferenceRelatesTo: {
    ...BACKBONE,
    code: el('code', { min: 1, codes: ['replaces', 'transforms', 'signs', 'appends'] }),
    target: el('Reference', { min: 1 }),
  },
  DocumentReferenceContent: { ...BACKBONE, attachment: el('Attachment', { min: 1 }), format: el('Coding') },
  DocumentReferenceContext: {
    ...BACKBONE,
    encounter: many('Reference'),
    event: many('CodeableConcept'),
    period: el('Period'),
    facilityType: el('CodeableConcept'),
    practiceSetting: el('CodeableConcept'),
    sourcePatientInfo: el('Reference'),
    related: many('Reference'),
  },
};

const RESOURCES: Record<string, Record<string, El>> = {
  Patient: {
    ...DOMAIN_RESOURCE,
    identifier: many('Identifier'),
    active: el('boolean'),
    name: many('HumanName'),
    telecom: many('ContactPoint'),
    gender: el('code', { codes: ['male', 'female', 'other', 'unknown'] }),
    birthDate: el('date'),
    deceasedBoolean: el('boolean'),
    deceasedDateTime: el('dateTime'),
    address: many('Address'),
    maritalStatus: el('CodeableConcept'),
    multipleBirthBoolean: el('boolean'),
    multipleBirthInteger: el('integer'),
    photo: many('Attachment'),
    // contact, communication and link are BackboneElements the adapter never writes: their inside is not checked here.
    contact: many('BackboneElement'),
    communication: many('BackboneElement'),
    generalPractitioner: many('Reference'),
    managingOrganization: el('Reference'),
    link: many('BackboneElement'),
  },
  Appointment: {
    ...DOMAIN_RESOURCE,
    identifier: many('Identifier'),
    status: el('code', {
      min: 1,
      codes: ['proposed', 'pending', 'booked', 'arrived', 'fulfilled', 'cancelled', 'noshow', 'entered-in-error', 'checked-in', 'waitlist'],
    }),
    cancelationReason: el('CodeableConcept'),
    serviceCategory: many('CodeableConcept'),
    serviceType: many('CodeableConcept'),
    specialty: many('CodeableConcept'),
    appointmentType: el('CodeableConcept'),
    reasonCode: many('CodeableConcept'),
    reasonReference: many('Reference'),
    priority: el('unsignedInt'),
    description: el('string'),
    supportingInformation: many('Reference'),
    start: el('instant'),
    end: el('instant'),
    minutesDuration: el('positiveInt'),
    slot: many('Reference'),
    created: el('dateTime'),
    comment: el('string'),
    patientInstruction: el('string'),
    basedOn: many('Reference'),
    participant: many('AppointmentParticipant', { min: 1 }),
    requestedPeriod: many('Period'),
  },
  DocumentReference: {
    ...DOMAIN_RESOURCE,
    masterIdentifier: el('Identifier'),
    identifier: many('Identifier'),
    status: el('code', { min: 1, codes: ['current', 'superseded', 'entered-in-error'] }),
    docStatus: el('code', { codes: ['preliminary', 'final', 'amended', 'entered-in-error'] }),
    type: el('CodeableConcept'),
    category: many('CodeableConcept'),
    subject: el('Reference'),
    date: el('instant'),
    author: many('Reference'),
    authenticator: el('Reference'),
    custodian: el('Reference'),
    relatesTo: many('DocumentReferenceRelatesTo'),
    description: el('string'),
    securityLabel: many('CodeableConcept'),
    content: many('DocumentReferenceContent', { min: 1 }),
    context: el('DocumentReferenceContext'),
  },
};

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A primitive value of `type`, or why not (never quoting the value). */
function primitiveProblem(type: string, value: unknown): string | undefined {
  if (type === 'boolean') return typeof value === 'boolean' ? undefined : 'must be a JSON boolean';
  if (type === 'integer' || type === 'positiveInt' || type === 'unsignedInt') {
    if (typeof value !== 'number' || !Number.isInteger(value)) return 'must be a JSON integer';
    const lowest = { integer: -2147483648, positiveInt: 1, unsignedInt: 0 }[type];
    return value < lowest || value > 2147483647 ? `must be a ${type}` : undefined;
  }
  if (typeof value !== 'string') return 'must be a JSON string';
  const pattern = PRIMITIVES[type];
  if (pattern && !pattern.test(value)) return `is not a valid ${type}`;
  if ((type === 'date' || type === 'dateTime' || type === 'instant') && !calendarDayExists(value)) return `is not a calendar day (${type})`;
  return undefined;
}

function calendarDayExists(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(value);
  if (!m) return true;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const day = new Date(Date.UTC(y, mo - 1, d));
  return day.getUTCFullYear() === y && day.getUTCMonth() === mo - 1 && day.getUTCDate() === d;
}

/** ext-1 and the url of an Extension; its value[x] is checked as the JSON value it is. */
function checkExtension(value: Json, path: string, issues: R4Issue[]): void {
  if (typeof value['url'] !== 'string' || value['url'] === '')
    issues.push({ code: 'required', expression: `${path}.url`, diagnostics: 'Extension.url is required (1..1)' });
  const values = Object.keys(value).filter((k) => /^value[A-Z]/.test(k));
  const nested = value['extension'] !== undefined;
  if (values.length + (nested ? 1 : 0) !== 1)
    issues.push({
      code: 'invariant',
      expression: path,
      diagnostics: 'ext-1: an extension has either extensions or one value[x], not both',
    });
  for (const key of Object.keys(value)) {
    if (key === 'url' || key === 'id' || values.includes(key)) continue;
    if (key === 'extension') checkElement(value[key], many('Extension'), `${path}.extension`, issues);
    else issues.push({ code: 'structure', expression: `${path}.${key}`, diagnostics: `unknown element ${key} in Extension` });
  }
  for (const key of values) noEmpty(value[key], `${path}.${key}`, issues);
}

/** ele-1: no null, empty string, empty array or empty object anywhere. */
function noEmpty(value: unknown, path: string, issues: R4Issue[]): void {
  const empty =
    value === null || value === '' || (Array.isArray(value) && value.length === 0) || (isObject(value) && Object.keys(value).length === 0);
  if (empty)
    issues.push({ code: 'invariant', expression: path, diagnostics: 'ele-1: an element has a value or children (no null or empty)' });
  else if (Array.isArray(value)) for (const [i, v] of value.entries()) noEmpty(v, `${path}[${i}]`, issues);
  else if (isObject(value)) for (const [k, v] of Object.entries(value)) noEmpty(v, `${path}.${k}`, issues);
}

/** One element (array or not, as its cardinality says), then its content. */
function checkElement(value: unknown, def: El, path: string, issues: R4Issue[]): void {
  if (Boolean(def.many) !== Array.isArray(value)) {
    issues.push({
      code: 'structure',
      expression: path,
      diagnostics: def.many ? 'must be a JSON array (0..*)' : 'must not be an array (0..1)',
    });
    return;
  }
  if (!Array.isArray(value)) checkValue(value, def, path, issues);
  else for (const [i, item] of value.entries()) checkValue(item, def, `${path}[${i}]`, issues);
}

function checkValue(value: unknown, def: El, path: string, issues: R4Issue[]): void {
  if (value === null || value === '' || (isObject(value) && Object.keys(value).length === 0)) return; // reported by ele-1
  if (def.t === 'Extension') {
    if (isObject(value)) checkExtension(value, path, issues);
    else issues.push({ code: 'structure', expression: path, diagnostics: 'an Extension is a JSON object' });
    return;
  }
  if (def.t === 'BackboneElement') return;
  const complex = TYPES[def.t];
  if (!complex) {
    const problem = primitiveProblem(def.t, value);
    if (problem) issues.push({ code: 'value', expression: path, diagnostics: `${path} ${problem}` });
    else if (def.codes && !def.codes.includes(value as string))
      issues.push({
        code: 'code-invalid',
        expression: path,
        diagnostics: `${path} is not a code of its required value set (${def.codes.join(' | ')})`,
      });
    return;
  }
  if (!isObject(value)) {
    issues.push({ code: 'structure', expression: path, diagnostics: `${path} must be a JSON object (${def.t})` });
    return;
  }
  checkObject(value, complex, def.t, path, issues);
}

function checkObject(value: Json, elements: Record<string, El>, typeName: string, path: string, issues: R4Issue[]): void {
  for (const [key, child] of Object.entries(value)) {
    const def = elements[key];
    if (!def) issues.push({ code: 'structure', expression: `${path}.${key}`, diagnostics: `unknown element ${key} in ${typeName}` });
    else checkElement(child, def, `${path}.${key}`, issues);
  }
  for (const [key, def] of Object.entries(elements))
    if (def.min && value[key] === undefined)
      issues.push({
        code: 'required',
        expression: `${path}.${key}`,
        diagnostics: `${typeName}.${key} is required (1..${def.many ? '*' : '1'})`,
      });
}

/** The resource-level invariants (R4 Appointment app-1…4, Attachment att-1). */
function checkInvariants(r: Json, type: string, issues: R4Issue[]): void {
  const fail = (expression: string, diagnostics: string) => issues.push({ code: 'invariant', expression, diagnostics });
  if (type === 'Appointment') {
    if ((r['start'] === undefined) !== (r['end'] === undefined))
      fail('Appointment', 'app-2: either start and end are specified, or neither');
    if ((r['start'] === undefined || r['end'] === undefined) && !['proposed', 'cancelled', 'waitlist'].includes(r['status'] as string))
      fail('Appointment', 'app-3: only proposed or cancelled appointments can be missing start/end dates');
    if (r['cancelationReason'] !== undefined && !['cancelled', 'noshow'].includes(r['status'] as string))
      fail('Appointment.cancelationReason', 'app-4: a cancelation reason only for a cancelled or no-show appointment');
    const participants = Array.isArray(r['participant']) ? (r['participant'] as unknown[]) : [];
    participants.forEach((p, i) => {
      if (isObject(p) && p['type'] === undefined && p['actor'] === undefined)
        fail(`Appointment.participant[${i}]`, 'app-1: either the type or actor on the participant SHALL be specified');
    });
  }
  if (type === 'DocumentReference') {
    const contents = Array.isArray(r['content']) ? (r['content'] as unknown[]) : [];
    contents.forEach((c, i) => {
      const a = isObject(c) ? c['attachment'] : undefined;
      if (isObject(a) && a['data'] !== undefined && a['contentType'] === undefined)
        fail(`DocumentReference.content[${i}].attachment`, 'att-1: if the Attachment has data, it SHALL have a contentType');
    });
  }
}

/** Every R4 problem of a resource of one of the types this server takes (Patient, Appointment, DocumentReference). */
export function validateR4(resource: unknown, expectedType: string): R4Issue[] {
  const issues: R4Issue[] = [];
  const elements = RESOURCES[expectedType];
  if (!elements) throw new Error(`no R4 definition for ${expectedType}`);
  if (!isObject(resource) || resource['resourceType'] !== expectedType)
    return [{ code: 'structure', expression: expectedType, diagnostics: `the body must be a ${expectedType} resource (resourceType)` }];
  noEmpty(resource, expectedType, issues);
  checkObject(resource, elements, expectedType, expectedType, issues);
  checkInvariants(resource, expectedType, issues);
  return issues;
}

/** The OperationOutcome of the issues (R4 issue types), for a 400. */
function r4Outcome(issues: readonly R4Issue[]): Json {
  return {
    resourceType: 'OperationOutcome',
    issue: issues.map((i) => ({ severity: 'error', code: i.code, diagnostics: i.diagnostics, expression: [i.expression] })),
  };
}

/**
 * The switch and the record: on (the default, strict) every write is validated and an invalid one
 * refused with 400 + the OperationOutcome; `refusals` keeps what was refused (types and element paths).
 */
export class R4Gate {
  enabled: boolean;
  readonly refusals: { resourceType: string; expressions: string[] }[] = [];
  constructor(enabled = true) {
    this.enabled = enabled;
  }

  /** Throws what the server answers for an invalid resource (the caller's error type: a 400 with the OperationOutcome). */
  check(resource: unknown, resourceType: string, refuse: (outcome: Json) => Error): void {
    if (!this.enabled) return;
    const issues = validateR4(resource, resourceType);
    if (issues.length === 0) return;
    this.refusals.push({ resourceType, expressions: issues.map((i) => i.expression) });
    throw refuse(r4Outcome(issues));
  }
}
