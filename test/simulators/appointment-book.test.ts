// The simulators' check-in and walk-in calls over raw HTTP: they refuse what the EMR would (an
// unknown status, appointment type or provider, a start without its zone) with a 4xx and store
// nothing, and a repeated Idempotency-Key answers with the first appointment.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { authorizationHeader } from '../../operator/internal/httpx/oauth1.ts';
import { type AccuroSimulator, start as startAccuro } from './accuro.ts';
import { type OscarSimulator, start as startOscar } from './oscar.ts';
import { start as startTelus, type TelusSimulator } from './telus.ts';

const volume = { providers: 2, patients: 5, appointmentsPerDay: 2, days: 1, startDate: '2030-01-07' };

describe('the Accuro simulator scheduler', () => {
  let sim: AccuroSimulator;
  let headers: Record<string, string>;
  beforeAll(async () => {
    sim = await startAccuro({ volume });
    const c = sim.credentials;
    const token = await fetch(`${sim.url}/v1/token?tenant=${sim.tenantId}`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'password', username: c.apiUsername, password: c.apiPassword }),
    });
    const { access_token } = (await token.json()) as { access_token: string };
    headers = { authorization: `Bearer ${access_token}`, 'x-qhr-subscription-key': c.subscriptionKey, 'content-type': 'application/json' };
  });
  afterAll(() => sim.stop());
  const call = (method: string, path: string, body: unknown, extra: Record<string, string> = {}) =>
    fetch(`${sim.url}${path}?uuid=${sim.uuid}`, { method, headers: { ...headers, ...extra }, body: JSON.stringify(body) });
  const walkIn = { patientId: 1, providerId: 2001, appointmentDate: '2030-01-07', startTime: '09:30', duration: 15, appointmentTypeId: 2 };

  it.each([
    ['an unknown appointment type', { ...walkIn, appointmentTypeId: 99 }, 400],
    ['an unknown provider', { ...walkIn, providerId: 2999 }, 400],
    ['an unknown patient', { ...walkIn, patientId: 999 }, 404],
    ['a start that is not the wall clock', { ...walkIn, startTime: '9:30am' }, 400],
  ])('refuses a walk-in with %s and stores nothing', async (_name, body, status) => {
    const before = sim.appointments.count;
    expect((await call('POST', '/v1/scheduler/appointments', body)).status).toBe(status);
    expect(sim.appointments.count).toBe(before);
  });

  it('ignores a repeated Idempotency-Key by default (strict, as real Accuro): a second create makes a second appointment, recorded in ignoredRepeats', async () => {
    expect(sim.state.honorIdempotencyKey).toBe(false);
    const first = await call('POST', '/v1/scheduler/appointments', walkIn, { 'idempotency-key': 'k-acc-strict' });
    const again = await call('POST', '/v1/scheduler/appointments', walkIn, { 'idempotency-key': 'k-acc-strict' });
    expect([first.status, again.status, again.headers.get('idempotent-replayed')]).toEqual([201, 201, null]);
    const ids = [(await first.json()) as { appointmentId: number }, (await again.json()) as { appointmentId: number }].map(
      (x) => x.appointmentId,
    );
    expect(ids[0]).not.toBe(ids[1]);
    expect(sim.appointments.ignoredRepeats).toEqual([
      expect.objectContaining({ idempotencyKey: 'k-acc-strict', index: (ids[0] ?? 0) - 1 }),
    ]);
    expect(sim.appointments.replays).toEqual([]);
  });

  it('books 09:30 of the clinic (Toronto, EST) once per Idempotency-Key when the key is honoured (leniency opted in), and refuses an unknown status', async () => {
    sim.state.honorIdempotencyKey = true;
    onTestFinished(() => {
      sim.state.honorIdempotencyKey = false;
    });
    const first = await call('POST', '/v1/scheduler/appointments', walkIn, { 'idempotency-key': 'k-acc-1' });
    const again = await call('POST', '/v1/scheduler/appointments', walkIn, { 'idempotency-key': 'k-acc-1' });
    expect([first.status, again.status, again.headers.get('idempotent-replayed')]).toEqual([201, 200, 'true']);
    const { appointmentId } = (await first.json()) as { appointmentId: number };
    expect(sim.appointments.get(appointmentId - 1)).toMatchObject({ start: new Date('2030-01-07T14:30:00Z'), appointmentType: 'Walk-in' });
    expect((await call('PUT', `/v1/scheduler/appointments/${appointmentId}/status`, { status: 'Teleported' })).status).toBe(400);
    expect(sim.appointments.get(appointmentId - 1).status).toBe('booked');
  });
});

describe('the OSCAR simulator schedule service', () => {
  let sim: OscarSimulator;
  beforeAll(async () => {
    sim = await startOscar({ volume });
  });
  afterAll(() => sim.stop());
  const post = (path: string, body: unknown) => {
    const url = new URL(`${sim.url}/ws/services/${path}`);
    const c = sim.credentials;
    const authorization = authorizationHeader({
      method: 'POST',
      url,
      credentials: { consumerKey: c.clientKey, consumerSecret: c.clientSecret, token: c.accessToken, tokenSecret: c.tokenSecret },
    });
    return fetch(url, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  };
  const add = { providerNo: '1001', demographicNo: 2, appointmentDate: '2030-01-07', startTime: '09:30', duration: 15, type: 'Walk-in' };

  it.each([
    ['an unknown type', { ...add, type: 'Teleportation' }],
    ['an unknown provider', { ...add, providerNo: '1999' }],
    ['an unknown demographic', { ...add, demographicNo: 999 }],
  ])('refuses an appointment with %s (400) and stores nothing', async (_name, body) => {
    const before = sim.appointments.count;
    expect((await post('schedule/add', body)).status).toBe(400);
    expect(sim.appointments.count).toBe(before);
  });

  it('adds at the server wall clock, and refuses a status code it does not have', async () => {
    const response = await post('schedule/add', add);
    const { appointment } = (await response.json()) as { appointment: { id: number } };
    expect(sim.appointments.get(appointment.id - 1).start).toEqual(new Date('2030-01-07T14:30:00Z'));
    expect((await post(`schedule/appointment/${appointment.id}/updateStatus`, { status: 'Z' })).status).toBe(400);
    expect((await post(`schedule/appointment/${appointment.id}/updateStatus`, { status: 'H' })).status).toBe(200);
    expect(sim.appointments.get(appointment.id - 1).status).toBe('arrived');
  });
});

describe('the TELUS simulator appointments', () => {
  let sim: TelusSimulator;
  let base: string;
  let headers: Record<string, string>;
  beforeAll(async () => {
    sim = await startTelus({ volume });
    const instance = sim.instance('MedAccess');
    base = `${sim.url}/api/v1/instances/${instance.instanceId}`;
    const session = await fetch(`${base}/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instanceSecret: instance.instanceSecret }),
    });
    headers = { authorization: `Bearer ${((await session.json()) as { token: string }).token}`, 'content-type': 'application/json' };
  });
  afterAll(() => sim.stop());
  const walkIn = {
    patientId: '1',
    providerId: 'P1001',
    start: '2030-01-07T09:30:00-05:00',
    durationMinutes: 15,
    appointmentType: 'WALKIN',
  };

  it.each([
    ['an unknown appointment type', { ...walkIn, appointmentType: 'TELEPORT' }],
    ['an unknown provider', { ...walkIn, providerId: 'P1999' }],
    ['a start without its offset', { ...walkIn, start: '2030-01-07T09:30:00' }],
  ])('refuses a walk-in with %s (400) and stores nothing', async (_name, body) => {
    const before = sim.appointments.count;
    expect((await fetch(`${base}/appointments`, { method: 'POST', headers, body: JSON.stringify(body) })).status).toBe(400);
    expect(sim.appointments.count).toBe(before);
  });

  it('refuses a status it does not have and leaves the appointment as it was', async () => {
    const response = await fetch(`${base}/appointments/1/status`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ status: 'teleported' }),
    });
    expect(response.status).toBe(400);
    expect(sim.appointments.changes).toEqual([]);
  });
});
