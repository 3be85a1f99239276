import { describe, expect, it } from 'vitest';
import { assertValidDocumentReference, FhirValidationError, validateDocumentReference } from './fhir-validate.ts';

const valid = () => ({
  resourceType: 'DocumentReference',
  identifier: [{ system: 'urn:cloudconnect.dev:idempotency-key', value: 'msg-1' }],
  status: 'current',
  docStatus: 'final',
  type: { coding: [{ system: 'http://loinc.org', code: '51855-5', display: 'Patient Note' }] },
  subject: { reference: 'Patient/pat-1' },
  date: '2030-01-02T03:04:05.000Z',
  description: 'Referral letter',
  content: [{ attachment: { contentType: 'application/pdf', data: Buffer.from('%PDF-1.4').toString('base64'), title: 'Referral letter' } }],
});

type Doc = ReturnType<typeof valid> & Record<string, unknown>;

describe('DocumentReference validation (FHIR R4 minimum rules)', () => {
  it('accepts a complete DocumentReference', () => {
    expect(validateDocumentReference(valid())).toEqual([]);
    expect(() => assertValidDocumentReference(valid())).not.toThrow();
  });

  it('accepts the bare minimum: status and one attachment with content type and data', () => {
    expect(
      validateDocumentReference({
        resourceType: 'DocumentReference',
        status: 'current',
        content: [{ attachment: { contentType: 'application/pdf', data: 'QUJD' } }],
      }),
    ).toEqual([]);
  });

  const cases: [string, (d: Doc) => void, string][] = [
    ['rejects a resource of another type', (d) => (d.resourceType = 'Binary'), 'resourceType'],
    ['rejects a DocumentReference without status', (d) => delete (d as Partial<Doc>).status, 'status'],
    ['rejects a status outside the R4 value set', (d) => (d.status = 'final'), 'status'],
    ['rejects a docStatus outside the R4 value set', (d) => (d.docStatus = 'done'), 'docStatus'],
    ['rejects a DocumentReference without content', (d) => delete (d as Partial<Doc>).content, 'content'],
    ['rejects empty content (ele-1)', (d) => (d.content = []), 'content'],
    ['rejects content without an attachment', (d) => (d.content = [{}] as Doc['content']), 'content[0]'],
    [
      'rejects an attachment without contentType',
      (d) => delete (d.content[0]!.attachment as Partial<Doc['content'][0]['attachment']>).contentType,
      'content[0].attachment.contentType',
    ],
    [
      'rejects a contentType that is not a MIME type',
      (d) => (d.content[0]!.attachment.contentType = 'pdf'),
      'content[0].attachment.contentType',
    ],
    [
      'rejects an attachment without data',
      (d) => delete (d.content[0]!.attachment as Partial<Doc['content'][0]['attachment']>).data,
      'content[0].attachment.data',
    ],
    ['rejects data that is not base64', (d) => (d.content[0]!.attachment.data = 'not base64!'), 'content[0].attachment.data'],
    [
      'rejects a coding with a system but no code',
      (d) => (d.type = { coding: [{ system: 'http://loinc.org' } as Doc['type']['coding'][0]] }),
      'type.coding[0].code',
    ],
    ['rejects a subject that is not a literal reference', (d) => (d.subject = { reference: 'patient 1' }), 'subject.reference'],
    [
      'rejects an identifier without a value',
      (d) => (d.identifier = [{ system: 'urn:x:y' } as Doc['identifier'][0]]),
      'identifier[0].value',
    ],
    ['rejects a date without a time zone', (d) => (d.date = '2030-01-02T03:04:05'), 'date'],
    ['rejects empty strings anywhere (ele-1)', (d) => (d.description = ' '), 'description'],
    ['rejects nulls anywhere', (d) => ((d as Record<string, unknown>)['description'] = null), 'description'],
  ];
  it.each(cases)('%s', (_name, mutate, path) => {
    const doc = valid() as Doc;
    mutate(doc);
    const issues = validateDocumentReference(doc);
    expect(issues.map((i) => i.path)).toContain(path);
  });

  it('names the element but never quotes its value in the error', () => {
    const doc = valid() as Doc;
    doc.subject = { reference: 'Jane Doe' };
    try {
      assertValidDocumentReference(doc);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(FhirValidationError);
      expect((error as Error).message).toContain('subject.reference');
      expect((error as Error).message).not.toContain('Jane');
    }
  });
});
