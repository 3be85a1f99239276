// The simulator parts the relay tests rely on: the rejectDocuments fault and Ocean's webhook retries.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AccuroAdapter } from '../../operator/internal/emr/accuro.ts';
import { EmrError } from '../../operator/internal/emr/adapter.ts';
import { ACCURO_DEV_CREDENTIALS, start as startAccuro } from './accuro.ts';
import { SIMULATOR_EGRESS } from './egress.ts';
import { eFormNoteMessage, minimalPdf, start as startOcean } from './ocean.ts';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (stops.length) await stops.pop()?.();
});

describe('the rejectDocuments fault', () => {
  it('a document post answers the given 4xx while other calls work, and works again once cleared', async () => {
    const sim = await startAccuro({ volume: { providers: 1, patients: 3, appointmentsPerDay: 1, days: 1 } });
    stops.push(() => sim.stop());
    const adapter = new AccuroAdapter({
      baseUrl: sim.url,
      credentials: { ...ACCURO_DEV_CREDENTIALS },
      tenantId: sim.tenantId,
      egress: SIMULATOR_EGRESS,
    });
    sim.setFault({ rejectDocuments: 422 });
    expect((await adapter.listProviders()).length).toBe(1);
    const doc = { patientId: '1', title: 'Letter', pdf: minimalPdf(['x']), idempotencyKey: 'k-1' };
    const error = await adapter.postDocument(doc).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmrError);
    expect((error as EmrError).reason).toBe('InvalidResponse');
    sim.clearFaults();
    expect((await adapter.postDocument(doc)).duplicate).toBe(false);
    expect(sim.documents).toHaveLength(1);
  });
  it('only a 4xx other than 429 is accepted', async () => {
    const sim = await startAccuro({ volume: { providers: 1, patients: 1, appointmentsPerDay: 1, days: 1 } });
    stops.push(() => sim.stop());
    for (const bad of [429, 503, 200]) {
      const r = await fetch(`${sim.origin}/_sim/faults`, { method: 'POST', body: JSON.stringify({ rejectDocuments: bad }) });
      expect(r.status).toBe(400);
    }
  });
});

describe("Ocean's webhook retries", () => {
  it('a delivery answered 503 is retried until it is accepted', async () => {
    let payloads = 0;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const json = JSON.parse(body) as { challenge?: string };
        if (json.challenge) return res.end(JSON.stringify({ challenge: json.challenge }));
        payloads++;
        res.statusCode = payloads < 3 ? 503 : 202;
        res.end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    stops.push(() => new Promise((r) => server.close(() => r())));
    const ocean = await startOcean();
    stops.push(() => ocean.stop());
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const message = eFormNoteMessage('m-1', { emrId: '1', firstName: 'A', lastName: 'B', birthDate: '2000-01-01' });
    expect((await ocean.deliverWebhook(url, message, {}, { attempts: 5, retryDelayMs: 10 })).status).toBe(202);
    expect(payloads).toBe(3);
    payloads = 0;
    expect((await ocean.deliverWebhook(url, message)).status).toBe(503); // without retries: one attempt
  });
});
