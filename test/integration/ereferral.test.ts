// An eReferral endpoint end to end, through the real operator and relay: a clinic without an
// integrated EMR (EmrIntegration type None, spec.eReferral.forward) gets a relay Deployment from the
// operator; the relay runs as that Deployment's pod would (ereferral-fixture.ts), logs in to Vault as
// the site, and takes the FHIR bundles the Ocean simulator sends when referrals are created. The
// referral target (a strict third-party receiver) is down for a while: every bundle waits in the
// durable queue and, once the target is up, reaches it exactly once (no duplicates, nothing lost),
// Ocean's retry of a bundle included. The relay clock is scaled (1 min of retry schedule per second).
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relayQueueNames } from '../../operator/internal/relayqueue/contract.ts';
import { type OceanSimulator, start as startOcean } from '../simulators/ocean.ts';
import { referralBundle } from '../simulators/ocean-referrals.ts';
import { type ReferralTarget, startReferralTarget } from '../simulators/referral-target.ts';
import { applyClinic, type Clinic, type RelayPod, runRelayPod } from './ereferral-fixture.ts';
import { kubectlOk } from './kubectl.ts';
import { type NatsServer, startNatsServer } from './nats.ts';
import { eventually, type OperatorProcess, startOperator } from './operator-process.ts';
import { makeTestTls } from './tls.ts';

const ns = `it-eref-${Date.now().toString(36)}`;
const TOKEN = `target-token-${Date.now().toString(36)}`;
let nats: NatsServer;
let ocean: OceanSimulator;
let target: ReferralTarget;
let operator: OperatorProcess;
let clinic: Clinic;
let relay: RelayPod;

const patient = (i: number) => ({
  firstName: `Anna${i}`,
  lastName: `Referred${i}`,
  birthDate: `1970-01-0${(i % 9) + 1}`,
  healthNumber: `90000000${i}`,
});

beforeAll(async () => {
  const tls = makeTestTls();
  [nats, ocean, target] = await Promise.all([
    startNatsServer({ name: 'ereferral' }),
    startOcean(),
    startReferralTarget({ auth: { token: TOKEN }, tls: { cert: tls.cert, key: tls.key } }),
  ]);
  await kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', 'crds']);
  // Scoped to this test's namespace: a cluster-wide operator would also provision the relay queues of
  // every integration earlier test files left behind, and their reservations fill this server's account.
  operator = await startOperator({ ...(await nats.operatorEnv()), RELAY_STATUS_POLL_INTERVAL: '1s', WATCH_NAMESPACES: ns });
  clinic = await applyClinic({ namespace: ns, site: 'birch', siteNumber: '7101', targetUrl: target.url, token: TOKEN, ca: tls.ca });
  await kubectlOk(['wait', '--for=condition=Ready', '--timeout=90s', '-n', ns, `emrintegration/${clinic.integration}`]);
  const origin = new Date().toISOString();
  relay = await runRelayPod(clinic, { CLOUDCONNECT_RELAY_TIME_SCALE: '60', CLOUDCONNECT_RELAY_TIME_ORIGIN: origin });
  ocean.registerWebhook(relay.url, { headerName: 'Referral-Integration-API-Key', key: await clinic.key() });
}, 240_000);

afterAll(async () => {
  await relay?.stop();
  await operator?.stop();
  await target?.stop();
  await ocean?.stop();
  await nats?.dispose();
  await kubectlOk(['delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
});

describe('an eReferral endpoint of a clinic without an integrated EMR', () => {
  it('is Ready (NonIntegrated) with its target configured, and its relay mounts only the target Secret of its own namespace', async () => {
    const obj = JSON.parse(await kubectlOk(['get', 'emrintegration', clinic.integration, '-n', ns, '-o', 'json']));
    const conditions = obj.status.conditions as { type: string; status: string; reason: string }[];
    expect(conditions.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'NonIntegrated' });
    expect(conditions.find((c) => c.type === 'EReferralTargetReady')).toMatchObject({ status: 'True', reason: 'TargetConfigured' });
    const d = JSON.parse(await kubectlOk(['get', 'deployment', `${clinic.integration}-relay`, '-n', ns, '-o', 'json']));
    const volumes = d.spec.template.spec.volumes as { name: string; secret?: { secretName: string } }[];
    expect(volumes.find((v) => v.name === 'ereferral-credentials')?.secret?.secretName).toBe('referral-target');
    expect(volumes.find((v) => v.name === 'emr-credentials')).toBeUndefined();
  });

  it('delivers every bundle to the target exactly once across a target outage, an Ocean retry included', async () => {
    await target.down();
    const bundles = Array.from({ length: 6 }, (_, i) => referralBundle(`ref-${ns}-${i}`, patient(i)));
    for (const b of bundles) expect((await ocean.sendReferral(relay.url, b)).status).toBe(202);
    // Ocean retries a post it thinks failed: the same bundle is stored once.
    const retried = await ocean.sendReferral(relay.url, bundles[0] ?? {});
    expect(retried.answer).toMatchObject({ duplicate: true });
    const jsm = await jetstreamManager(await nats.connectAs(await nats.operatorCreds()));
    const workStream = relayQueueNames(ns, clinic.integration).workStream;
    // Down for several retry rounds (1, 5, 10 min of relay clock): nothing reaches it, nothing is lost.
    await new Promise((r) => setTimeout(r, 12_000));
    expect(target.received).toHaveLength(0);
    expect((await jsm.streams.info(workStream)).state.messages).toBe(6);
    await target.up();
    await eventually(async () => target.received.length >= 6 || undefined, 'all six bundles at the target', 120_000);
    await eventually(async () => (await jsm.streams.info(workStream)).state.messages === 0 || undefined, 'the queue drained');
    // And nothing more arrives afterwards.
    await new Promise((r) => setTimeout(r, 5000));
    expect(target.received.map((r) => r.bundleId).sort()).toEqual(bundles.map((b) => String(b['id'])).sort());
    expect(new Set(target.received.map((r) => r.idempotencyKey)).size).toBe(6);
    const first = target.received.find((r) => r.bundleId === bundles[0]?.['id']);
    expect(first?.body).toEqual(bundles[0]);
    const metrics = await (await fetch(relay.metricsUrl)).text();
    expect(metrics).toMatch(/cloudconnect_relay_ereferral_forwarded_total\{[^}]*\} 6\n/);
    expect(metrics).toMatch(/cloudconnect_relay_deliveries_total\{[^}]*result="retry"[^}]*\} [1-9]/);
  }, 240_000);
});
