// An eReferral endpoint of a site WITH an integrated EMR and no forward target: the real relay
// (relay-harness.ts: a child process, real nats-server and Vault) takes Ocean's referral bundle at
// /ocean/fhir_bundles and files it in the Accuro simulator (which, like real Accuro, ignores
// Idempotency-Key) as a received referral per spec.settings.referrals: the letter in the referral
// folder of the chart its Patient's MR identifier names, exactly once across Ocean's retry and a
// relay restart. A bundle that names no chart is refused (422) and nothing is stored or filed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relayQueueNames } from '../../operator/internal/relayqueue/contract.ts';
import { minimalPdf } from '../simulators/ocean.ts';
import { referralBundle } from '../simulators/ocean-referrals.ts';
import { eventually } from './operator-process.ts';
import { type RelayHarness, startRelayHarness } from './relay-harness.ts';

let h: RelayHarness;
let bundlesUrl = '';

beforeAll(async () => {
  h = await startRelayHarness({ namespace: 'ereferral-filing', patients: 5 });
  const spec = JSON.parse(h.env['CLOUDCONNECT_INTEGRATION_SPEC'] ?? '{}') as Record<string, unknown>;
  const withEReferral = { ...spec, eReferral: {}, settings: { referrals: { receivedSaveAs: 'Documents', documentFolder: 'Referrals' } } };
  h.env['CLOUDCONNECT_INTEGRATION_SPEC'] = JSON.stringify(withEReferral);
  await h.startRelay();
  bundlesUrl = h.webhookUrl.replace(/\/ocean\/webhook$/, '/ocean/fhir_bundles');
  h.ocean.registerWebhook(bundlesUrl, { headerName: 'Referral-Integration-API-Key', key: h.webhookKey.current });
}, 120_000);

afterAll(async () => {
  await h?.dispose();
});

const chartOf = (i: number) => h.patient(i);
const filed = (chart: string) => h.accuro.documents.filter((d) => d.patientId === chart);
const lastSeq = async () => (await h.jsm.streams.info(relayQueueNames(h.namespace, h.integration).workStream)).state.last_seq;

describe('an eReferral bundle at a site with an integrated EMR', () => {
  it('is filed once in the chart its Patient MR identifier names, in the referral folder, across a retry and a relay restart', async () => {
    const p = chartOf(0);
    const bundle = referralBundle('ref-filed-1', p, { chartId: p.emrId, letter: minimalPdf(['Referral letter', p.lastName]) });
    expect((await h.ocean.sendReferral(bundlesUrl, bundle)).status).toBe(202);
    await eventually(async () => filed(p.emrId).length >= 1 || undefined, 'the referral letter in the EMR');
    expect(filed(p.emrId)[0]).toMatchObject({ title: 'Cardiology consult', folder: 'Referrals', contentType: 'application/pdf' });
    // Ocean retries, the relay restarts: Accuro ignores keys, so only the relay can keep it single.
    expect((await h.ocean.sendReferral(bundlesUrl, bundle)).answer).toMatchObject({ duplicate: true });
    await h.kill('SIGKILL');
    await h.startRelay();
    expect((await h.ocean.sendReferral(bundlesUrl, bundle)).status).toBe(202);
    await new Promise((r) => setTimeout(r, 3000));
    expect(filed(p.emrId)).toHaveLength(1);
  });

  it('is refused with 422 when it names no chart, and nothing is stored or filed', async () => {
    const p = chartOf(1);
    const before = await lastSeq();
    const send = await h.ocean.sendReferral(bundlesUrl, referralBundle('ref-no-chart', p, { letter: minimalPdf(['letter']) }));
    expect(send.status).toBe(422);
    expect(JSON.stringify(send.answer)).toContain('identifier of type MR');
    expect(p.healthNumber).toBeTruthy();
    expect(JSON.stringify(send.answer)).not.toContain(String(p.healthNumber));
    expect(await lastSeq()).toBe(before);
    expect(filed(p.emrId)).toHaveLength(0);
  });
});
