// The one list of field names whose values are never written: secrets and patient data (PHI). The
// operator, the sync worker, the relay and the kubectl plugin (support bundles) all redact through
// runtime/redact.ts, which reads these; nothing else keeps a list of its own.

/** Names that say the value is secret (`password`, `clientSecret`, `sek`, `activationCode`, …). */
const SECRET_FIELD =
  /pass(word)?|secret|token|sek$|^sek|encryptionkey$|apikey|api_key|authorization|cookie|credential|private|pin$|^key$|activationcode|subscriptionkey|signature/i;

/** Names that look secret but hold a reference, a place or a public digest: kept. */
const SECRET_FIELD_EXCEPTION = /ref$|name$|path$|mount$|fingerprint$|version$/i;

/**
 * Patient data: identity, demographics, contact details, free text. Every field of an EMR `Patient`
 * and of an Ocean demographic update is here (redact.test.ts checks both). A Clinical
 * Administrator's `clinicalAdminEmail` is not: it is configuration, not a patient's.
 */
const PHI_FIELD = new RegExp(
  `^(${[
    'patient',
    'firstname',
    'middlename',
    'lastname',
    'givenname',
    'familyname',
    'birthdate',
    'dateofbirth',
    'dob',
    'hcn',
    'healthcard',
    'healthnumber',
    'mrn',
    'sex',
    'gender',
    'phone',
    'e-?mail',
    'emailaddress',
    'address',
    'street',
    'city',
    'province',
    'postalcode',
    'notes?',
    'demographics?',
  ].join('|')})$`,
  'i',
);

/** Whether a field of this name holds a secret (and is not a reference to one). */
export function isSecretField(name: string): boolean {
  return SECRET_FIELD.test(name) && !SECRET_FIELD_EXCEPTION.test(name);
}

/** Whether a field of this name holds patient data. */
export function isPhiField(name: string): boolean {
  return PHI_FIELD.test(name);
}
