// Attacks on the eReferral endpoint (POST /ocean/fhir_bundles on a clinic's relay, seed 001), against
// the real operator, the relay run as its Deployment's pod (integration/ereferral-fixture.ts), a real
// nats-server, Vault and the referral target simulator. Two clinics without an integrated EMR, each
// forwarding to its own target:
// - no key, a wrong key, or clinic A's key at clinic B's endpoint: 401, nothing stored in either
//   clinic's queue, nothing at either target;
// - bodies that are not a FHIR R4 Bundle with a ServiceRequest: 400/422 naming the element, no value
//   of the bundle in the answer or the relay's log, nothing stored; EMR-bound messages to the
//   webhook of a clinic that has no EMR (422), and a bundle posted there as a message (400);
// - a target Secret in another namespace: refused at admission (the reference has no namespace
//   field), and a same-named Secret that exists only in the other namespace is never read (the
//   integration says SecretNotFound; the victim Secret gets no label);
// - a target URL that is a cluster-internal address (loopback here, as a metadata or Service IP
//   would be): the relay, with the egress sandbox's production default, refuses to connect
//   (EndpointNotAllowed in status.relay), the bundle waits in the queue, the target receives nothing.
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relayQueueNames } from '../../operator/internal/relayqueue/contract.ts';
import { applyClinic, type Clinic, type RelayPod, runRelayPod } from '../integration/ereferral-fixture.ts';
import { apply } from '../integration/fixtures.ts';
import { kubectl, kubectlOk } from '../integration/kubectl.ts';
import { type NatsServer, startNatsServer } from '../integration/nats.ts';
import { eventually, type OperatorProcess, startOperator } from '../integration/operator-process.ts';
import { makeTestTls } from '../integration/tls.ts';
import { type OceanSimulator, start as startOcean } from '../simulators/ocean.ts';
import { referralBundle } from '../simulators/ocean-referrals.ts';
import { type ReferralTarget, startReferralTarget } from '../simulators/referral-target.ts';

const HEADER = 'Referral-Integration-API-Key';
const stamp = Date.now().toString(36);
const nsA = `sec-eref-a-${stamp}`;
const nsB = `sec-eref-b-${stamp}`;
const nsC = `sec-eref-c-${stamp}`;
let nats: NatsServer;
let jsm: JetStreamManager;
let ocean: OceanSimulator;
let targetA: ReferralTarget;
let targetB: ReferralTarget;
let operator: OperatorProcess;
let a: Clinic;
let b: Clinic;
let relayA: RelayPod;
let relayB: RelayPod;
let keyA = '';
let keyB = '';
const PATIENT = { firstName: 'Zebulon', lastName: 'Quixotic', birthDate: '1961-02-03', healthNumber: '4455667788' };

const stored = async (c: Clinic) => (await jsm.streams.info(relayQueueNames(c.namespace, c.integration).workStream)).state.last_seq;
const post = (url: string, headers: Record<string, string>, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/fhir+json', ...headers }, body: JSON.stringify(body) });

beforeAll(async () => {
  const tls = makeTestTls();
  [nats, ocean, targetA, targetB] = await Promise.all([
    startNatsServer({ name: 'ereferral-security' }),
    startOcean(),
    startReferralTarget({ auth: { token: `token-a-${stamp}` }, tls: { cert: tls.cert, key: tls.key } }),
    startReferralTarget({ auth: { token: `token-b-${stamp}` }, tls: { cert: tls.cert, key: tls.key } }),
  ]);
  jsm = await jetstreamManager(await nats.connectAs(await nats.operatorCreds()));
  await kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', 'crds']);
  // The three clinics only (the victim nsC included, so the cross-namespace attempts could reach it):
  // not the integrations earlier test files left, whose relay queues would fill this server's account.
  operator = await startOperator({
    ...(await nats.operatorEnv()),
    RELAY_STATUS_POLL_INTERVAL: '1s',
    WATCH_NAMESPACES: [nsA, nsB, nsC].join(','),
  });
  a = await applyClinic({
    namespace: nsA,
    site: 'alder',
    siteNumber: '7201',
    targetUrl: targetA.url,
    token: `token-a-${stamp}`,
    ca: tls.ca,
  });
  b = await applyClinic({
    namespace: nsB,
    site: 'beech',
    siteNumber: '7202',
    targetUrl: targetB.url,
    token: `token-b-${stamp}`,
    ca: tls.ca,
  });
  for (const c of [a, b])
    await kubectlOk(['wait', '--for=condition=Ready', '--timeout=90s', '-n', c.namespace, `emrintegration/${c.integration}`]);
  [relayA, relayB] = await Promise.all([runRelayPod(a), runRelayPod(b)]);
  [keyA, keyB] = await Promise.all([a.key(), b.key()]);
}, 240_000);

afterAll(async () => {
  await relayA?.stop();
  await relayB?.stop();
  await operator?.stop();
  await Promise.all([targetA?.stop(), targetB?.stop(), ocean?.stop()]);
  await nats?.dispose();
  for (const ns of [nsA, nsB, nsC]) await kubectl(['delete', 'namespace', ns, '--wait=false']);
});

describe('the eReferral endpoint refuses', () => {
  it('a missing or wrong Referral-Integration-API-Key, and stores nothing', async () => {
    const before = [await stored(a), await stored(b)];
    const bundle = referralBundle(`forged-${stamp}`, PATIENT);
    expect((await post(relayB.url, {}, bundle)).status).toBe(401);
    expect((await post(relayB.url, { [HEADER]: 'not-the-key' }, bundle)).status).toBe(401);
    expect((await post(relayB.url, { [HEADER]: `${keyB}x` }, bundle)).status).toBe(401);
    expect([await stored(a), await stored(b)]).toEqual(before);
    expect(targetB.received).toHaveLength(0);
  });

  it("one clinic's key at another clinic's endpoint, and neither clinic stores or forwards anything", async () => {
    const before = [await stored(a), await stored(b)];
    const answer = await post(relayB.url, { [HEADER]: keyA }, referralBundle(`cross-${stamp}`, PATIENT));
    expect(answer.status).toBe(401);
    expect([await stored(a), await stored(b)]).toEqual(before);
    // Clinic B's own key still works at its endpoint, and its bundle goes to B's target only.
    ocean.registerWebhook(relayB.url, { headerName: HEADER, key: keyB });
    expect((await ocean.sendReferral(relayB.url, referralBundle(`own-${stamp}`, PATIENT))).status).toBe(202);
    await eventually(async () => targetB.received.some((r) => r.bundleId === `own-${stamp}`) || undefined, "B's bundle at B's target");
    expect(targetB.received.map((r) => r.bundleId)).toEqual([`own-${stamp}`]);
    expect(targetA.received).toHaveLength(0);
  });

  it.each([
    { name: 'a JSON array', body: [], status: 400, message: 'JSON object' },
    {
      name: 'a Patient instead of a Bundle',
      body: { resourceType: 'Patient', name: [{ family: PATIENT.lastName }] },
      status: 422,
      message: 'resourceType must be Bundle',
    },
    {
      name: 'a Bundle without an id',
      body: { ...referralBundle('x', PATIENT), id: undefined },
      status: 422,
      message: 'Bundle.id is required',
    },
    {
      name: 'a Bundle without a ServiceRequest',
      body: { ...referralBundle('no-sr', PATIENT), entry: (referralBundle('no-sr', PATIENT)['entry'] as unknown[]).slice(0, 2) },
      status: 422,
      message: 'no ServiceRequest',
    },
    { name: 'a ServiceRequest without a subject', body: brokenServiceRequest(), status: 422, message: 'subject.reference is required' },
  ])('$name ($status), naming the element and no value of it, storing nothing', async ({ body, status, message }) => {
    const before = await stored(b);
    const answer = await post(relayB.url, { [HEADER]: keyB }, body);
    expect(answer.status).toBe(status);
    const text = await answer.text();
    expect(text).toContain(message);
    for (const value of Object.values(PATIENT)) {
      expect(text).not.toContain(value);
      expect(relayB.logs()).not.toContain(value);
    }
    expect(await stored(b)).toBe(before);
  });

  it('messages to /ocean/webhook of a clinic without an EMR (422), and a bundle smuggled in as a webhook message (400), storing nothing', async () => {
    const before = await stored(b);
    const webhook = relayB.url.replace(/\/ocean\/fhir_bundles$/, '/ocean/webhook');
    const note = {
      messageId: `note-${stamp}`,
      type: 'referralAttachment',
      patient: { emrId: '1' },
      attachment: { title: 'x', data: 'JVBERi0xLjQK' },
    };
    const refused = await post(webhook, { [HEADER]: keyB, 'content-type': 'application/json' }, note);
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({ emrType: 'None', messageType: 'referralAttachment' });
    const smuggled = { messageId: `smuggled-${stamp}`, type: 'referralBundle', bundle: referralBundle(`smuggled-${stamp}`, PATIENT) };
    const answer = await post(webhook, { [HEADER]: keyB, 'content-type': 'application/json' }, smuggled);
    expect(answer.status).toBe(400);
    expect(await answer.text()).toContain('/ocean/fhir_bundles');
    expect(await stored(b)).toBe(before);
  });

  it('a target Secret of another namespace: at admission, and never reads a same-named Secret elsewhere', async () => {
    await kubectlOk(['create', 'namespace', nsC]);
    await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'victim-target', namespace: nsA }, stringData: { token: 'victim' } });
    const refused = await kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'cloudconnect.dev/v1alpha1',
        kind: 'EmrIntegration',
        metadata: { name: 'thief', namespace: nsC },
        spec: {
          siteRef: { name: 'thief' },
          emr: { type: 'None' },
          eReferral: {
            forward: { url: 'https://referrals.example.org/in', credentialsSecretRef: { name: 'victim-target', namespace: nsA } },
          },
        },
      }),
    );
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/unknown field "spec\.eReferral\.forward\.credentialsSecretRef\.namespace"/);
    // The same name without a namespace means this namespace's Secret, which does not exist: never nsA's.
    await apply({
      apiVersion: 'cloudconnect.dev/v1alpha1',
      kind: 'EmrIntegration',
      metadata: { name: `${b.site}-thief`, namespace: nsB },
      spec: {
        siteRef: { name: b.site },
        emr: { type: 'None' },
        eReferral: { forward: { url: 'https://referrals.example.org/in', credentialsSecretRef: { name: 'victim-target' } } },
      },
    });
    const condition = await eventually(async () => {
      const obj = JSON.parse(await kubectlOk(['get', 'emrintegration', `${b.site}-thief`, '-n', nsB, '-o', 'json']));
      return (obj.status?.conditions as { type: string; status: string; reason: string }[] | undefined)?.find(
        (c) => c.type === 'EReferralTargetReady',
      );
    }, 'EReferralTargetReady');
    expect(condition).toMatchObject({ status: 'False', reason: 'SecretNotFound' });
    const victim = JSON.parse(await kubectlOk(['get', 'secret', 'victim-target', '-n', nsA, '-o', 'json']));
    expect(victim.metadata.labels?.['cloudconnect.dev/credentials']).toBeUndefined();
  });

  it('a target at a cluster-internal address, in the egress sandbox: nothing reaches it, the bundle waits', async () => {
    // As in a cluster: the operator passes no EGRESS_ALLOW_CIDRS, so loopback/private/link-local are refused.
    await relayB.stop();
    relayB = await runRelayPod(b, { EGRESS_ALLOW_CIDRS: undefined });
    ocean.registerWebhook(relayB.url, { headerName: HEADER, key: keyB });
    const received = targetB.received.length;
    expect((await ocean.sendReferral(relayB.url, referralBundle(`internal-${stamp}`, PATIENT))).status).toBe(202);
    const relay = await eventually(async () => {
      const obj = JSON.parse(await kubectlOk(['get', 'emrintegration', b.integration, '-n', nsB, '-o', 'json']));
      return obj.status?.relay?.lastFailureReason === 'EndpointNotAllowed' ? obj.status.relay : undefined;
    }, 'status.relay.lastFailureReason EndpointNotAllowed');
    expect(relay.pending).toBeGreaterThanOrEqual(1);
    expect(targetB.received).toHaveLength(received);
    expect(targetB.refused.filter((r) => r.why !== 'fault')).toEqual([]);
  });
});

function brokenServiceRequest(): Record<string, unknown> {
  const bundle = referralBundle('broken-sr', PATIENT);
  const entries = bundle['entry'] as { resource: Record<string, unknown> }[];
  const last = entries[entries.length - 1];
  if (last) delete last.resource['subject'];
  return bundle;
}
