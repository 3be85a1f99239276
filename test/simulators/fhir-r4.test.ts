// The FHIR simulator's own R4 validation (fhir-r4.ts), from the R4 specification: what it refuses,
// that it names the element and never the value, and that the server answers a deliberately invalid
// write with 400 + OperationOutcome and stores nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start as startFhir } from './fhir.ts';
import { validateR4 } from './fhir-r4.ts';

const patient = {
  resourceType: 'Patient',
  id: 'pat-1',
  meta: { versionId: '2', lastUpdated: '2030-05-06T10:00:00.000Z' },
  identifier: [{ system: 'https://example.invalid/hcn', value: '1234567890' }],
  name: [{ use: 'official', family: 'Zelda-Sim', given: ['Ann'] }],
  telecom: [{ system: 'phone', value: '555-0101', use: 'home' }],
  gender: 'female',
  birthDate: '1980-02-29',
  extension: [{ url: 'https://cloudconnect.dev/fhir/StructureDefinition/custom-field/smokingStatus', valueString: 'never' }],
};
const appointment = {
  resourceType: 'Appointment',
  identifier: [{ system: 'urn:cloudconnect.dev:idempotency-key', value: 'k1' }],
  status: 'booked',
  start: '2030-05-06T13:30:17.500Z',
  end: '2030-05-06T13:45:17.500Z',
  minutesDuration: 15,
  participant: [
    { actor: { reference: 'Patient/pat-1' }, status: 'accepted' },
    { actor: { reference: 'Practitioner/prac-1' }, status: 'accepted' },
  ],
};
const documentReference = {
  resourceType: 'DocumentReference',
  status: 'current',
  subject: { reference: 'Patient/pat-1' },
  content: [{ attachment: { contentType: 'application/pdf', data: 'JVBERi0xLjQK', title: 'Consult letter' } }],
};

describe('R4 validation of what a client writes', () => {
  it.each([
    ['a Patient as the adapter writes it', patient, 'Patient'],
    ['a walk-in Appointment', appointment, 'Appointment'],
    ['a DocumentReference with its PDF', documentReference, 'DocumentReference'],
    [
      'a proposed Appointment without dates (app-3 allows it)',
      { ...appointment, status: 'proposed', start: undefined, end: undefined },
      'Appointment',
    ],
  ])('accepts %s', (_name, resource, type) => {
    expect(validateR4(JSON.parse(JSON.stringify(resource)), type)).toEqual([]);
  });

  const cases: [string, Record<string, unknown>, string, string, string][] = [
    ['an element R4 does not define', { ...patient, favouriteColour: 'blue' }, 'Patient', 'structure', 'Patient.favouriteColour'],
    ['a gender outside the required value set', { ...patient, gender: 'F' }, 'Patient', 'code-invalid', 'Patient.gender'],
    ['a birth date that is no calendar day', { ...patient, birthDate: '1981-02-29' }, 'Patient', 'value', 'Patient.birthDate'],
    ['an empty string (ele-1)', { ...patient, name: [{ family: '' }] }, 'Patient', 'invariant', 'Patient.name[0].family'],
    [
      'a 0..* element that is not an array',
      { ...patient, telecom: { system: 'phone', value: '1' } },
      'Patient',
      'structure',
      'Patient.telecom',
    ],
    [
      'a ContactPoint system outside its value set',
      { ...patient, telecom: [{ system: 'mobile', value: '1' }] },
      'Patient',
      'code-invalid',
      'Patient.telecom[0].system',
    ],
    [
      'an extension with neither value nor extensions (ext-1)',
      { ...patient, extension: [{ url: 'https://x.invalid/a' }] },
      'Patient',
      'invariant',
      'Patient.extension[0]',
    ],
    ['an extension without its url', { ...patient, extension: [{ valueString: 'x' }] }, 'Patient', 'required', 'Patient.extension[0].url'],
    [
      'an Appointment without participants',
      { ...appointment, participant: undefined },
      'Appointment',
      'required',
      'Appointment.participant',
    ],
    ['an Appointment with a start and no end (app-2)', { ...appointment, end: undefined }, 'Appointment', 'invariant', 'Appointment'],
    [
      'a booked Appointment without dates (app-3)',
      { ...appointment, start: undefined, end: undefined },
      'Appointment',
      'invariant',
      'Appointment',
    ],
    ['a start that is no instant (no zone)', { ...appointment, start: '2030-05-06T13:30:00' }, 'Appointment', 'value', 'Appointment.start'],
    [
      'a participant without a status',
      { ...appointment, participant: [{ actor: { reference: 'Patient/pat-1' } }] },
      'Appointment',
      'required',
      'Appointment.participant[0].status',
    ],
    [
      'a participant with neither type nor actor (app-1)',
      { ...appointment, participant: [{ status: 'accepted' }] },
      'Appointment',
      'invariant',
      'Appointment.participant[0]',
    ],
    ['a minutesDuration of 0 (positiveInt)', { ...appointment, minutesDuration: 0 }, 'Appointment', 'value', 'Appointment.minutesDuration'],
    [
      'a DocumentReference without content',
      { ...documentReference, content: undefined },
      'DocumentReference',
      'required',
      'DocumentReference.content',
    ],
    [
      'attachment data without a contentType (att-1)',
      { ...documentReference, content: [{ attachment: { data: 'JVBERi0xLjQK' } }] },
      'DocumentReference',
      'invariant',
      'DocumentReference.content[0].attachment',
    ],
    [
      'attachment data that is not base64',
      { ...documentReference, content: [{ attachment: { contentType: 'application/pdf', data: 'not base64!' } }] },
      'DocumentReference',
      'value',
      'DocumentReference.content[0].attachment.data',
    ],
    [
      'a DocumentReference status outside its value set',
      { ...documentReference, status: 'final' },
      'DocumentReference',
      'code-invalid',
      'DocumentReference.status',
    ],
  ];
  it.each(cases)('refuses %s, naming the element', (_name, resource, type, code, expression) => {
    const issues = validateR4(JSON.parse(JSON.stringify(resource)), type);
    expect(issues).toContainEqual(expect.objectContaining({ code, expression }));
  });

  it('never quotes a value in what it reports (resources carry PHI)', () => {
    const issues = validateR4(
      { ...patient, gender: 'Zelda-Sim-gender', birthDate: 'Zelda-Sim-1980', name: { family: 'Zelda-Sim' } },
      'Patient',
    );
    expect(issues.length).toBeGreaterThanOrEqual(3);
    expect(JSON.stringify(issues)).not.toMatch(/Zelda/);
  });
});

describe('the FHIR simulator refuses an invalid write', () => {
  let sim: Awaited<ReturnType<typeof startFhir>>;
  let token: string;
  beforeAll(async () => {
    sim = await startFhir({ volume: { providers: 2, patients: 5, appointmentsPerDay: 2, days: 1, startDate: '2030-05-06' } });
    const c = sim.credentials;
    const response = await fetch(sim.tokenUrl, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    token = ((await response.json()) as { access_token: string }).access_token;
  });
  afterAll(() => sim.stop());
  const post = (type: string, body: unknown) =>
    fetch(`${sim.url}/${type}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
      body: JSON.stringify(body),
    });

  it('with 400 and an OperationOutcome naming the element, and stores nothing; the same resource made valid is taken', async () => {
    const before = sim.appointments.count;
    const bad = await post('Appointment', { ...appointment, participant: [{ actor: { reference: 'Patient/pat-1' }, status: 'maybe' }] });
    expect(bad.status).toBe(400);
    const outcome = (await bad.json()) as { resourceType: string; issue: { code: string; expression: string[] }[] };
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue).toContainEqual(
      expect.objectContaining({ code: 'code-invalid', expression: ['Appointment.participant[0].status'] }),
    );
    expect(sim.appointments.count).toBe(before);
    expect(sim.r4.refusals).toEqual([{ resourceType: 'Appointment', expressions: ['Appointment.participant[0].status'] }]);
    expect((await post('Appointment', appointment)).status).toBe(201);
    expect(sim.appointments.count).toBe(before + 1);
  });

  it('lets an invalid write through only when a test turns validation off (leniency)', async () => {
    const invalidDoc = { ...documentReference, status: 'current', extra: true };
    expect((await post('DocumentReference', invalidDoc)).status).toBe(400);
    sim.r4.enabled = false;
    try {
      expect((await post('DocumentReference', invalidDoc)).status).toBe(201);
    } finally {
      sim.r4.enabled = true;
    }
  });
});
