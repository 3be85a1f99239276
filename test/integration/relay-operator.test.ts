// The operator's side of the EMR-bound message relay, against the shared cluster, Vault, a real
// nats-server and the Accuro simulator: the relay Deployment and Service with the expected pod spec,
// a SEK rotation rolling its pod template, status records from the NATS bucket reaching status.relay
// and the Delivering condition, a new dead letter raising the Event and the e-mail, the replay
// annotation moving dead letters back to the queue, no write while nothing changes, and suspend;
// the webhook's API key generated into Vault, rotated on request with the old key kept for the grace
// period, and only its version and times in status.
// The relay process itself is not run here (its own tests do): this test writes the status records
// a relay would, as the relay's own NATS user that the operator minted into Vault (so the operator's
// provisioning of streams and credentials is exercised too), so every condition can be reached on purpose.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  deadLetterSubject,
  KEY_VERSION_HEADER,
  type RelayStatusRecord,
  relayQueueNames,
  statusKey,
} from '../../operator/internal/relayqueue/contract.ts';
import { openStatusBucket, RECEIVED_AT_HEADER } from '../../operator/internal/relayqueue/queue.ts';
import { ACCURO_DEV_CREDENTIALS, type AccuroSimulator, start as startAccuro } from '../simulators/accuro.ts';
import { exitCodeOf, kubectl, kubectlOk, repoRoot } from './kubectl.ts';
import { type NatsServer, startNatsServer } from './nats.ts';
import { eventually, everythingWritten, type OperatorProcess, startOperator } from './operator-process.ts';
import { startSmtpSink } from './smtp.ts';
import { makeTestTls } from './tls.ts';
import { vaultRequest } from './vault.ts';

const ns = `it-relayop-${Date.now().toString(36)}`;
const SITE = 'willow';
const INTEGRATION = 'willow-accuro';
const RELAY = `${INTEGRATION}-relay`;
const sek = randomBytes(32).toString('base64');
const KEY_PATH = `secret/data/cloudconnect/${ns}/${SITE}/relay/${INTEGRATION}`;
/** Every webhook key (and the id salt) the operator wrote: none may appear anywhere it writes. */
const webhookSecrets = new Set<string>();
let accuro: AccuroSimulator;
let nats: NatsServer;
let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
let operator: OperatorProcess;
let nc: NatsConnection;
let jsm: JetStreamManager;
let kv: KV | undefined;
let relayNc: NatsConnection | undefined;
const names = relayQueueNames(ns, INTEGRATION);
const credsPath = `secret/data/cloudconnect/${ns}/${SITE}/relay/${INTEGRATION}/nats`;

/** The status bucket as the relay opens it: with the NATS user the operator wrote to Vault for this integration. */
async function relayBucket(): Promise<KV> {
  if (kv) return kv;
  const creds = await eventually(async () => {
    const r = await vaultRequest('GET', credsPath);
    return r.status === 200 ? (r.json?.data?.data?.creds as string | undefined) : undefined;
  }, 'the relay NATS user in Vault');
  relayNc = await nats.connectAs(creds, { namespace: ns, integration: INTEGRATION });
  kv = await openStatusBucket(jetstream(relayNc));
  return kv;
}

const apply = (obj: object) => kubectlOk(['apply', '-f', '-'], JSON.stringify(obj));
const getJson = async <T>(kind: string, name: string): Promise<T> =>
  JSON.parse(await kubectlOk(['get', kind, name, '-n', ns, '-o', 'json'])) as T;

interface Deployment {
  metadata: { resourceVersion: string; ownerReferences?: { kind: string; name: string; controller?: boolean }[] };
  spec: { replicas: number; template: { metadata: { annotations: Record<string, string> }; spec: PodSpec } };
}
interface PodSpec {
  serviceAccountName: string;
  automountServiceAccountToken: boolean;
  containers: {
    image: string;
    command: string[];
    args: string[];
    env: { name: string; value?: string }[];
    volumeMounts: { name: string; readOnly?: boolean }[];
    securityContext: Record<string, unknown>;
  }[];
  volumes: { name: string; secret?: { secretName: string }; projected?: { sources: { serviceAccountToken?: { audience: string } }[] } }[];
}
interface Integration {
  metadata: { resourceVersion: string };
  status?: {
    relay?: Record<string, unknown>;
    webhook?: Record<string, unknown>;
    sync?: Record<string, unknown>;
    conditions?: { type: string; status: string; reason: string; message: string }[];
  };
}

const integration = () => getJson<Integration>('emrintegration', INTEGRATION);
const delivering = async () => (await integration()).status?.conditions?.find((c) => c.type === 'Delivering');
const waitDelivering = (status: string, reason: string) =>
  eventually(async () => {
    const c = await delivering();
    return c?.status === status && c.reason === reason ? c : undefined;
  }, `Delivering=${status} (${reason})`);

const record = (over: Partial<RelayStatusRecord> = {}): RelayStatusRecord => ({
  pending: 0,
  deliveredTotal: 0,
  deadLettered: 0,
  updatedAt: new Date().toISOString(),
  ...over,
});
/** What a relay dead-letters with (its own user may publish to its dead-letter subject; the operator's may not). */
const relayJs = async (): Promise<JetStreamClient> => {
  await relayBucket();
  if (!relayNc) throw new Error('no relay connection');
  return jetstream(relayNc);
};
const report = async (over: Partial<RelayStatusRecord> = {}) =>
  (await relayBucket()).put(statusKey(ns, INTEGRATION), JSON.stringify(record(over)));

beforeAll(async () => {
  const tls = makeTestTls();
  [accuro, nats, smtp] = await Promise.all([
    startAccuro({ tls: { cert: tls.cert, key: tls.key }, volume: { providers: 2, patients: 5, appointmentsPerDay: 2, days: 1 } }),
    startNatsServer({ name: 'relay-operator' }),
    startSmtpSink(),
  ]);
  nc = await nats.connectAs(await nats.operatorCreds());

  jsm = await jetstreamManager(nc);
  await kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', `${repoRoot}/crds`]);
  await kubectl(['create', 'namespace', ns]);
  await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sim-ca', namespace: ns }, stringData: { 'ca.crt': tls.ca } });
  await apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `${SITE}-sek`, namespace: ns },
    type: 'cloudconnect.dev/sek-import',
    stringData: { sek },
  });
  await apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'accuro-creds', namespace: ns },
    stringData: { ...ACCURO_DEV_CREDENTIALS },
  });
  await apply({
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'OceanSite',
    metadata: { name: SITE, namespace: ns },
    spec: {
      siteNumber: '4321',
      clinicalAdminEmail: `admin@${SITE}.example.org`,
      encryptionKey: { importFrom: { secretRef: { name: `${SITE}-sek` } } },
    },
  });
  operator = await startOperator({
    ...(await nats.operatorEnv()),
    RELAY_IMAGE: 'registry.example.org/cloudconnect:relay-test',
    RELAY_STATUS_POLL_INTERVAL: '1s',
    RELAY_BACKLOG_MESSAGES: '50',
    RELAY_STALE_AFTER: '10m',
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: String(smtp.port),
    SMTP_FROM: 'cloudconnect@example.org',
  });
  await kubectlOk(['wait', '--for=condition=Ready', '--timeout=60s', '-n', ns, `oceansite/${SITE}`]);
  await apply({
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'EmrIntegration',
    metadata: { name: INTEGRATION, namespace: ns },
    spec: {
      siteRef: { name: SITE },
      emr: {
        type: 'Accuro',
        accuro: { tenantId: accuro.tenantId, apiUrl: accuro.url, credentialsSecretRef: { name: 'accuro-creds' } },
        caBundleSecretRef: { name: 'sim-ca' },
      },
      webhook: { previousKeyGracePeriod: '2h' },
    },
  });
}, 180_000);

afterAll(async () => {
  await operator?.stop();
  await relayNc?.close();
  await nc?.close();
  await nats?.dispose();
  await smtp?.stop();
  await accuro?.stop();
  await kubectl(['delete', 'namespace', ns, '--wait=false']);
});

describe('the relay of an EmrIntegration', () => {
  it('is a Deployment under the site identity and a Service for the webhook, owned by the integration', async () => {
    // Waiting for this operator's image: another test file's operator with a NATS URL may apply its own for a moment.
    const d = await eventually(async () => {
      const found = await getJson<Deployment>('deployment', RELAY).catch(() => undefined);
      return found?.spec.template.spec.containers[0]?.image === 'registry.example.org/cloudconnect:relay-test' ? found : undefined;
    }, 'the relay Deployment with the configured image');
    expect(d.spec.replicas).toBe(1);
    expect(d.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'EmrIntegration', name: INTEGRATION, controller: true })]);
    const pod = d.spec.template.spec;
    expect(pod.serviceAccountName).toBe(SITE);
    expect(pod.automountServiceAccountToken).toBe(false);
    const c = pod.containers[0]!;
    expect(c.image).toBe('registry.example.org/cloudconnect:relay-test');
    expect(c.command).toEqual(['/nodejs/bin/node', 'operator/relay/main.ts']);
    expect(c.args).toEqual(['--integration', `${ns}/${INTEGRATION}`]);
    const env = Object.fromEntries(c.env.map((e) => [e.name, e.value]));
    expect(env).toMatchObject({
      NATS_URL: nats.url,
      NATS_CREDS_PATH: `cloudconnect/${ns}/${SITE}/relay/${INTEGRATION}/nats`,
      RELAY_PORT: '8080',
      RELAY_METRICS_PORT: '9090',
      RELAY_API_KEY_PATH: `cloudconnect/${ns}/${SITE}/relay/${INTEGRATION}`,
      VAULT_ROLE: 'cloudconnect-sync',
      SEK_PATH: `cloudconnect/${ns}/${SITE}/sek`,
      CLOUDCONNECT_SITE_NUMBER: '4321',
    });
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, runAsNonRoot: true });
    expect(pod.volumes.find((v) => v.name === 'emr-credentials')?.secret?.secretName).toBe('accuro-creds');
    expect(c.volumeMounts.find((m) => m.name === 'emr-credentials')?.readOnly).toBe(true);
    expect(pod.volumes.find((v) => v.name === 'vault-token')?.projected?.sources[0]?.serviceAccountToken?.audience).toBe('vault');
    expect(d.spec.template.metadata.annotations['cloudconnect.dev/sek-version']).toBe('1');

    const svc = await eventually(
      () =>
        getJson<{ spec: { selector: Record<string, string>; ports: { port: number; targetPort: string }[] } }>('service', RELAY).catch(
          () => undefined,
        ),
      'the relay Service',
    );
    expect(svc.spec.ports).toEqual([
      expect.objectContaining({ port: 80, targetPort: 'webhook' }),
      expect.objectContaining({ port: 9090, targetPort: 'metrics' }),
    ]);
    expect(svc.spec.selector).toMatchObject({ 'app.kubernetes.io/name': 'cloudconnect-relay', 'app.kubernetes.io/instance': RELAY });
  });

  it('has a webhook API key in Vault, generated by the operator, of which status shows only the version and time', async () => {
    const stored = await eventually(async () => {
      const r = await vaultRequest('GET', KEY_PATH);
      return r.status === 200 ? r.json?.data : undefined;
    }, 'the webhook key in Vault');
    const data = stored.data as Record<string, string>;
    expect(data['current']).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(data['idSalt']).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(data['previous']).toBeUndefined();
    webhookSecrets.add(data['current'] ?? '').add(data['idSalt'] ?? '');
    const webhook = await eventually(async () => (await integration()).status?.webhook, 'status.webhook');
    expect(webhook).toEqual({ keyVersion: stored.metadata?.version, keyRotatedAt: data['rotatedAt'] });
    const events = JSON.parse(
      await kubectlOk([
        'get',
        'events',
        '-n',
        ns,
        '--field-selector',
        `involvedObject.name=${INTEGRATION},reason=WebhookKeyCreated`,
        '-o',
        'json',
      ]),
    ) as { items: { message: string }[] };
    expect(events.items[0]?.message).toContain(`cloudconnect/${ns}/${SITE}/relay/${INTEGRATION}`);
  });

  it('rotates the webhook key on a new rotateWebhookKeyAt, keeping the old one for spec.webhook.previousKeyGracePeriod, once per token', async () => {
    const before = (await vaultRequest('GET', KEY_PATH)).json?.data ?? {};
    const old = before.data as Record<string, string>;
    const asked = Date.now();
    await kubectlOk(['annotate', '--overwrite', '-n', ns, `emrintegration/${INTEGRATION}`, 'cloudconnect.dev/rotateWebhookKeyAt=rotate-1']);
    const webhook = await eventually(async () => {
      const w = (await integration()).status?.webhook;
      return w?.['lastHandledRotateKeyAt'] === 'rotate-1' ? w : undefined;
    }, 'lastHandledRotateKeyAt=rotate-1');
    const after = (await vaultRequest('GET', KEY_PATH)).json?.data ?? {};
    const data = after.data as Record<string, string>;
    webhookSecrets.add(data['current'] ?? '');
    expect(data['current']).not.toBe(old['current']);
    expect(data['previous']).toBe(old['current']);
    expect(data['idSalt']).toBe(old['idSalt']);
    const until = Date.parse(data['previousValidUntil'] ?? '');
    expect(until).toBeGreaterThanOrEqual(asked + 2 * 3_600_000 - 60_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 2 * 3_600_000);
    expect(webhook).toEqual({
      keyVersion: after.metadata?.version,
      keyRotatedAt: data['rotatedAt'],
      previousKeyValidUntil: data['previousValidUntil'],
      lastHandledRotateKeyAt: 'rotate-1',
    });
    // The same token again (with another change that makes the operator reconcile) rotates nothing.
    await kubectlOk([
      'annotate',
      '--overwrite',
      '-n',
      ns,
      `emrintegration/${INTEGRATION}`,
      'cloudconnect.dev/rotateWebhookKeyAt=rotate-1',
      'touch-key=1',
    ]);
    await kubectlOk(['annotate', '--overwrite', '-n', ns, `emrintegration/${INTEGRATION}`, 'cloudconnect.dev/requestedAt=after-rotate']);
    await eventually(
      async () =>
        (await getJson<{ status?: { lastHandledRequestedAt?: string } }>('emrintegration', INTEGRATION)).status?.lastHandledRequestedAt ===
          'after-rotate' || undefined,
      'a reconcile after the same token',
    );
    expect((await vaultRequest('GET', KEY_PATH)).json?.data?.metadata?.version).toBe(after.metadata?.version);
  });

  it('says the relay has not reported before any status record exists', async () => {
    const c = await waitDelivering('Unknown', 'RelayNotReporting');
    expect(c.message).toContain('not reported');
  });

  it('shows a status record of the relay in status.relay and Delivering', async () => {
    await report({ deliveredTotal: 12 });
    const c = await waitDelivering('True', 'Delivered');
    expect(c.message).toContain('12 in total');
    expect((await integration()).status?.relay).toMatchObject({ pending: 0, deliveredTotal: 12, deadLettered: 0 });

    const since = new Date(Date.now() - 3.5 * 60_000).toISOString();
    await report({ pending: 4, oldestPendingSince: since, deliveredTotal: 12, lastFailureReason: 'EmrUnreachable' });
    await waitDelivering('False', 'EmrUnreachable');
    expect((await integration()).status?.relay).toMatchObject({
      pending: 4,
      oldestPendingTime: since,
      oldestPendingAge: '3m',
      lastFailureReason: 'EmrUnreachable',
    });
    const metrics = await operator.metrics();
    expect(metrics).toMatch(new RegExp(`cloudconnect_relay_pending_messages\\{namespace="${ns}",integration="${INTEGRATION}"\\} 4`));

    await report({ pending: 60, oldestPendingSince: new Date().toISOString(), deliveredTotal: 12 });
    await waitDelivering('False', 'Backlogged');

    await report({ deliveredTotal: 80, updatedAt: new Date(Date.now() - 11 * 60_000).toISOString() });
    await waitDelivering('Unknown', 'RelayNotReporting');
  });

  it('costs no write while the record does not change', async () => {
    await report({ deliveredTotal: 90 });
    await waitDelivering('True', 'Delivered');
    // The default SyncSchedules come 10 s after the integration, and the Sync Status panel with them.
    await eventually(async () => (await integration()).status?.sync?.['nextSyncTime'], 'the default schedules in the Sync Status panel');
    // What this operator wrote (other test files' operators share the cluster and may write too, so
    // the count comes from this operator's own debug log, not from the object's resourceVersion).
    const writes = () =>
      operator
        .output()
        .split('\n')
        .filter((l) => l.includes(`"${ns}/${INTEGRATION}"`) && /status written/.test(l)).length +
      operator
        .output()
        .split('\n')
        .filter((l) => l.includes(`${ns}/${RELAY}`) && /(updated|created) the relay/.test(l)).length;
    // An idle window: the relay rewrites the same figures with a new updatedAt every second, as a
    // running relay does; the operator reads them at every poll (1 s) and writes nothing. A write
    // caused by another operator's write is not idleness broken, so up to three windows are tried.
    // Each window ends only once the operator has read the window's last record (a read logged
    // after it, and the one after that, which certainly started after it was written).
    const statusReads = () =>
      operator
        .output()
        .split('\n')
        .filter((l) => l.includes(`"${ns}/${INTEGRATION}"`) && l.includes('read the relay status')).length;
    let idle = false;
    const counted: number[] = [];
    for (let attempt = 0; attempt < 3 && !idle; attempt++) {
      const before = writes();
      for (let i = 0; i < 5; i++) {
        await report({ deliveredTotal: 90 });
        await new Promise((r) => setTimeout(r, 1000));
      }
      const readsAtLastRecord = statusReads();
      await eventually(async () => statusReads() >= readsAtLastRecord + 2, "the window's last record read");
      counted.push(writes() - before);
      idle = writes() === before;
    }
    expect(counted.at(-1), `writes per window: ${counted.join(', ')}`).toBe(0);
    const reads = operator
      .output()
      .split('\n')
      .filter((l) => /connected to NATS for relay status/.test(l)).length;
    expect(reads).toBe(1);
  });

  it('raises a Warning Event and mails the Clinical Administrator when messages are dead-lettered', async () => {
    const oldestDeadLetterAt = new Date(Date.now() - 86_400_000).toISOString();
    await report({ deliveredTotal: 90, deadLettered: 2, oldestDeadLetterAt, lastFailureReason: 'EmrUnreachable' });
    await waitDelivering('False', 'DeadLettered');
    // The dead letters and when the oldest expires (14 days by default, one has passed), for the alert.
    const labels = `namespace="${ns}",integration="${INTEGRATION}"`;
    const metrics = await eventually(async () => {
      const text = await operator.metrics();
      return new RegExp(`cloudconnect_relay_dead_letters\\{${labels}\\} 2`).test(text) ? text : undefined;
    }, 'the dead-letter gauge');
    const expiresIn = Number(new RegExp(`cloudconnect_relay_dead_letter_expires_in_seconds\\{${labels}\\} (\\S+)`).exec(metrics)?.[1]);
    expect(expiresIn).toBeGreaterThan(12.9 * 86_400);
    expect(expiresIn).toBeLessThanOrEqual(13 * 86_400);
    const events = await eventually(async () => {
      const list = JSON.parse(
        await kubectlOk([
          'get',
          'events',
          '-n',
          ns,
          '--field-selector',
          `involvedObject.name=${INTEGRATION},reason=MessagesDeadLettered`,
          '-o',
          'json',
        ]),
      ) as { items: { type: string; message: string }[] };
      return list.items.length > 0 ? list.items : undefined;
    }, 'the MessagesDeadLettered Event');
    expect(events[0]).toMatchObject({ type: 'Warning' });
    expect(events[0]!.message).toContain('2 EMR-bound message(s)');
    const mail = await eventually(async () => smtp.mails.find((m) => /could not be delivered/.test(m.subject)), 'the dead-letter mail');
    expect(mail.to).toEqual([`admin@${SITE}.example.org`]);
    expect(mail.body).toContain('cloudconnect.dev/replayRequestedAt');

    // The same count again is not news: no second mail.
    await report({ deliveredTotal: 91, deadLettered: 2, lastFailureReason: 'EmrUnreachable' });
    await eventually(async () => (await integration()).status?.relay?.deliveredTotal === 91, 'the next record read');
    expect(smtp.mails.filter((m) => /could not be delivered/.test(m.subject))).toHaveLength(1);
  });

  it('replays dead letters when the replay annotation gets a new token', async () => {
    const h = headers();
    h.set(KEY_VERSION_HEADER, '1');
    h.set(RECEIVED_AT_HEADER, new Date(Date.now() - 97 * 3600_000).toISOString());
    for (const id of ['a', 'b'])
      await (await relayJs()).publish(deadLetterSubject(ns, INTEGRATION), new TextEncoder().encode(`ciphertext-${id}`), {
        headers: h,
        msgID: `dead:test-${id}`,
      });
    const deadBefore = await jsm.streams.info(names.deadStream);
    expect(deadBefore.state.messages).toBe(2);

    await kubectlOk(['annotate', '--overwrite', '-n', ns, `emrintegration/${INTEGRATION}`, 'cloudconnect.dev/replayRequestedAt=replay-1']);
    const relay = await eventually(async () => {
      const r = (await integration()).status?.relay;
      return r?.lastHandledReplayAt === 'replay-1' ? r : undefined;
    }, 'lastHandledReplayAt=replay-1');
    expect(relay.lastReplayedCount).toBe(2);
    const work = await jsm.streams.info(names.workStream);
    expect(work.state.messages).toBe(2);
    const dead = await jsm.streams.info(names.deadStream);
    expect(dead.state.messages).toBe(0);
    const replayed = JSON.parse(
      await kubectlOk([
        'get',
        'events',
        '-n',
        ns,
        '--field-selector',
        `involvedObject.name=${INTEGRATION},reason=DeadLettersReplayed`,
        '-o',
        'json',
      ]),
    ) as { items: { message: string }[] };
    expect(replayed.items[0]?.message).toContain('Moved 2');

    // The same token again does nothing more: once the operator has read a record written after the
    // annotation (the relay step reads it after handling the token), the count is still the first one.
    await kubectlOk([
      'annotate',
      '--overwrite',
      '-n',
      ns,
      `emrintegration/${INTEGRATION}`,
      'cloudconnect.dev/replayRequestedAt=replay-1',
      'touch=1',
    ]);
    await report({ deliveredTotal: 92, deadLettered: 2, lastFailureReason: 'EmrUnreachable' });
    await eventually(async () => (await integration()).status?.relay?.deliveredTotal === 92, 'a record written after the annotation read');
    expect((await integration()).status?.relay?.lastReplayedCount).toBe(2);
    const replayedAgain = JSON.parse(
      await kubectlOk([
        'get',
        'events',
        '-n',
        ns,
        '--field-selector',
        `involvedObject.name=${INTEGRATION},reason=DeadLettersReplayed`,
        '-o',
        'json',
      ]),
    ) as { items: { message: string; count?: number }[] };
    expect(replayedAgain.items.map((e) => e.count ?? 1).reduce((a, b) => a + b, 0)).toBe(1);
  });

  it('replays dead letters through kubectl cloudconnect relay replay, and reports how many', async () => {
    const h = headers();
    h.set(KEY_VERSION_HEADER, '1');
    h.set(RECEIVED_AT_HEADER, new Date(Date.now() - 97 * 3600_000).toISOString());
    await (await relayJs()).publish(deadLetterSubject(ns, INTEGRATION), new TextEncoder().encode('ciphertext-c'), {
      headers: h,
      msgID: 'dead:test-c',
    });
    const result = await new Promise<{ code: number; out: string; err: string }>((resolve) => {
      execFile(
        join(repoRoot, 'node_modules/.bin/node'),
        ['operator/cmd/plugin/main.ts', 'relay', 'replay', INTEGRATION, '-n', ns, '--timeout', '90s'],
        { cwd: repoRoot, env: { ...process.env, KUBECONFIG: inject('cluster').kubeconfig } },
        (error, out, err) => resolve({ code: exitCodeOf(error), out: String(out), err: String(err) }),
      );
    });
    expect(result.code, result.err).toBe(0);
    expect(result.out).toMatch(new RegExp(`Replayed 1 dead-lettered message of ${ns}/${INTEGRATION}`));
    const dead = await jsm.streams.info(names.deadStream);
    expect(dead.state.messages).toBe(0);
  });

  it('rolls the relay pod template when the SEK is rotated', async () => {
    const rotated = await vaultRequest('POST', `secret/data/cloudconnect/${ns}/${SITE}/sek`, {
      data: { sek: randomBytes(32).toString('base64') },
    });
    expect(rotated.json?.data?.version).toBe(2);
    await kubectlOk(['annotate', '--overwrite', '-n', ns, `oceansite/${SITE}`, 'cloudconnect.dev/requestedAt=rotate-1']);
    await eventually(
      async () =>
        (await getJson<Deployment>('deployment', RELAY)).spec.template.metadata.annotations['cloudconnect.dev/sek-version'] === '2',
      'sek-version 2 in the relay pod template',
    );
  });

  it('rolls the relay pod template when the credentials change', async () => {
    const before = (await getJson<Deployment>('deployment', RELAY)).spec.template.metadata.annotations['cloudconnect.dev/credentials-hash'];
    await apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'accuro-creds', namespace: ns },
      stringData: { ...ACCURO_DEV_CREDENTIALS, extra: 'x' },
    });
    await eventually(
      async () =>
        (await getJson<Deployment>('deployment', RELAY)).spec.template.metadata.annotations['cloudconnect.dev/credentials-hash'] !== before,
      'a new credentials hash',
    );
  });

  it('scales the relay to zero while suspended, and back', async () => {
    await kubectlOk(['patch', '-n', ns, `emrintegration/${INTEGRATION}`, '--type=merge', '-p', '{"spec":{"suspend":true}}']);
    await eventually(async () => (await getJson<Deployment>('deployment', RELAY)).spec.replicas === 0, 'replicas 0');
    await waitDelivering('False', 'Suspended');
    await kubectlOk(['patch', '-n', ns, `emrintegration/${INTEGRATION}`, '--type=merge', '-p', '{"spec":{"suspend":false}}']);
    await eventually(async () => (await getJson<Deployment>('deployment', RELAY)).spec.replicas === 1, 'replicas 1');
  });

  it('says so when NATS cannot be read, and recovers when it is back', async () => {
    await report({ deliveredTotal: 95 });
    await waitDelivering('True', 'Delivered');
    await nats.stop();
    const c = await waitDelivering('Unknown', 'QueueUnreachable').catch((error: Error) => {
      throw new Error(
        `${error.message}\n${operator
          .output()
          .split('\n')
          .filter((l) => l.includes(ns) || /NATS|nats/.test(l))
          .slice(-30)
          .join('\n')}`,
      );
    });
    expect(c.message).toContain('cannot read the relay status from NATS');
    await nats.restart();
    // The test's own connection reconnects too.
    await eventually(() => report({ deliveredTotal: 96 }).then(() => true), 'the record written after the restart');
    // The record read after the restart may still be the one before it (95): wait for the new one.
    await eventually(async () => (await integration()).status?.relay?.deliveredTotal === 96, 'deliveredTotal 96 read after the restart');
    expect(await delivering()).toMatchObject({ status: 'True', reason: 'Delivered' });
  });

  it('puts no credential or SEK anywhere it writes', async () => {
    const written = await everythingWritten(operator, ns, kubectlOk);
    expect(written).not.toContain(sek);
    for (const value of Object.values(ACCURO_DEV_CREDENTIALS).filter((v) => v.length >= 8))
      expect(written.includes(value), 'credential value leaked').toBe(false);
    expect(webhookSecrets.size).toBeGreaterThanOrEqual(3);
    for (const value of webhookSecrets) expect(written.includes(value), 'webhook key leaked').toBe(false);
    // The relay's NATS user: its nkey seed (SU…) is in Vault only.
    const creds = (await vaultRequest('GET', credsPath)).json?.data?.data?.creds as string;
    const seed = /-----BEGIN USER NKEY SEED-----\n(SU[A-Z2-7]+)\n/.exec(creds)?.[1];
    expect(seed).toMatch(/^SU/);
    expect(written.includes(seed ?? 'no seed'), 'NATS seed leaked').toBe(false);
    expect(written).not.toMatch(/SU[A-Z2-7]{56}/);
  });
});
