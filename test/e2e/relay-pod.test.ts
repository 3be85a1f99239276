// The relay on the real node: the operator deploys it, the kubelet runs the project's image, the pod
// logs in to Vault with its kubelet-issued token, connects to nats-server as the integration's own
// NATS user, reports (Delivering), and delivers what the Ocean simulator posts to its Service's
// ClusterIP (kube-proxy) into the EMR simulator. Then the pod is deleted mid-stream and the kubelet
// restarted: every message is stored in the EMR once, none lost. A SEK rotation in Vault reaches the
// running relay (new messages are queued under the new key version), and an edit of the EMR
// credentials Secret rolls the relay to a pod that authenticates with them.
import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEFAULT_API_KEY_HEADER } from '../../operator/cmd/relay/webhook-guard.ts';
import { KEY_VERSION_HEADER, relayQueueNames } from '../../operator/internal/relayqueue/contract.ts';
import { type AccuroSite, accuroEmr, apply, setUpAccuroSite } from '../integration/fixtures.ts';
import { kubectlOk } from '../integration/kubectl.ts';
import { type NatsServer, startNatsServer } from '../integration/nats.ts';
import { eventually, type OperatorProcess } from '../integration/operator-process.ts';
import { vaultRequest } from '../integration/vault.ts';
import { eFormNoteMessage, type OceanSimulator, start as startOcean } from '../simulators/ocean.ts';
import { REAL_NODE, restartKubelet, startOperatorForNode } from './node.ts';

const ns = `e2e-relay-${Date.now().toString(36)}`;
const SITE = 'aspen';
const INTEGRATION = 'aspen-accuro';
const RELAY = `${INTEGRATION}-relay`;
let site: AccuroSite;
let ocean: OceanSimulator;
let nats: NatsServer;
let operator: OperatorProcess;
let webhookUrl = '';

interface Condition {
  type: string;
  status: string;
  reason: string;
}
const condition = async (type: string): Promise<Condition | undefined> => {
  const obj = JSON.parse(await kubectlOk(['get', 'emrintegration', INTEGRATION, '-n', ns, '-o', 'json']));
  return (obj.status?.conditions as Condition[] | undefined)?.find((c) => c.type === type);
};
const patient = (i: number) => {
  const p = site.accuro.data.patient(i);
  return { emrId: String(i + 1), firstName: p.firstName, lastName: p.lastName, birthDate: p.birthDate, healthNumber: p.healthNumber };
};

beforeAll(async () => {
  const { nodeIp } = inject('cluster');
  nats = await startNatsServer({ host: nodeIp });
  ocean = await startOcean({ host: nodeIp });
  site = await setUpAccuroSite({ namespace: ns, site: SITE, siteNumber: '5151', host: nodeIp });
  operator = await startOperatorForNode({ ...(await nats.operatorEnv()), RELAY_STATUS_POLL_INTERVAL: '2s', OCEAN_API_URL: ocean.url });
  await apply({
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'EmrIntegration',
    metadata: { name: INTEGRATION, namespace: ns },
    spec: { siteRef: { name: SITE }, emr: accuroEmr(site) },
  });
  await eventually(
    async () => (await kubectlOk(['get', 'deployments', '-n', ns, '-o', 'name'])).includes(RELAY) || undefined,
    'the relay Deployment',
  );
  await kubectlOk(['rollout', 'status', '-n', ns, `deployment/${RELAY}`, '--timeout=240s']);
  const clusterIp = (await kubectlOk(['get', 'service', RELAY, '-n', ns, '-o', 'jsonpath={.spec.clusterIP}'])).trim();
  webhookUrl = `http://${clusterIp}/ocean/webhook`;
  const key = await vaultRequest('GET', `secret/data/cloudconnect/${ns}/${SITE}/relay/${INTEGRATION}`);
  ocean.registerWebhook(webhookUrl, { headerName: DEFAULT_API_KEY_HEADER, key: String(key.json?.data?.data?.current ?? '') });
}, 600_000);

afterAll(async () => {
  await operator?.stop();
  await nats?.dispose();
  await site?.accuro.stop();
  await ocean?.stop();
  await kubectlOk(['delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
});

describe('the relay pod on the real node', () => {
  it('runs the image on the node and reports Delivering through its own NATS user', async () => {
    const pods = JSON.parse(await kubectlOk(['get', 'pods', '-n', ns, '-l', `app.kubernetes.io/instance=${RELAY}`, '-o', 'json'])).items;
    expect(pods.map((p: { spec: { nodeName: string } }) => p.spec.nodeName)).toContain(REAL_NODE);
    const delivering = await eventually(
      async () => {
        const c = await condition('Delivering');
        return c?.status === 'True' ? c : undefined;
      },
      'Delivering=True (the relay pod reports)',
      120_000,
    );
    expect(delivering.reason).not.toBe('RelayNotReporting');
  });

  it("delivers what Ocean posts to the Service's ClusterIP into the EMR", async () => {
    for (let i = 0; i < 3; i++) {
      // Ocean retries a webhook it could not deliver; the Service's endpoints may reach kube-proxy a moment after the rollout.
      const delivery = await ocean.deliverWebhook(
        webhookUrl,
        eFormNoteMessage(`e2e-note-${i}`, patient(i)),
        {},
        { attempts: 60, retryDelayMs: 500 },
      );
      expect(delivery, JSON.stringify(delivery)).toMatchObject({ challengeOk: true, status: 202 });
    }
    await eventually(async () => site.accuro.documents.length >= 3 || undefined, 'three documents in the EMR', 120_000);
    expect(site.accuro.documents).toHaveLength(3);
  });

  it('loses and duplicates nothing when its pod is deleted mid-stream and the kubelet restarts', async () => {
    const before = site.accuro.documents.length;
    const total = 20;
    const sending = (async () => {
      for (let i = 0; i < total; i++) {
        await ocean.deliverWebhook(
          webhookUrl,
          eFormNoteMessage(`e2e-kill-${i}`, patient(i % 10)),
          {},
          { attempts: 120, retryDelayMs: 500 },
        );
      }
    })();
    await eventually(async () => site.accuro.documents.length > before + 2 || undefined, 'the stream under way', 120_000);
    const podsNow = async () =>
      (await kubectlOk(['get', 'pods', '-n', ns, '-l', `app.kubernetes.io/instance=${RELAY}`, '-o', 'name'])).trim();
    const killed = await podsNow();
    await kubectlOk([
      'delete',
      'pod',
      '-n',
      ns,
      '-l',
      `app.kubernetes.io/instance=${RELAY}`,
      '--grace-period=0',
      '--force',
      '--wait=false',
    ]);
    await restartKubelet();
    await sending;
    await kubectlOk(['rollout', 'status', '-n', ns, `deployment/${RELAY}`, '--timeout=240s']);
    const replacement = await podsNow();
    expect(replacement).not.toContain(killed);
    await eventually(async () => site.accuro.documents.length >= before + total || undefined, `all ${total} messages in the EMR`, 240_000);
    const added = site.accuro.documents.slice(before);
    expect(added).toHaveLength(total);
    expect(new Set(added.map((d) => d.idempotencyKey)).size).toBe(total);
  });

  it('queues new messages under the new key version after a SEK rotation in Vault, and still delivers them', async () => {
    await kubectlOk(['patch', 'oceansite', SITE, '-n', ns, '--type=merge', '-p', '{"spec":{"encryptionKey":{"recheckInterval":"2s"}}}']);
    const rotated = await vaultRequest('POST', `secret/data/cloudconnect/${ns}/${SITE}/sek`, {
      data: { sek: randomBytes(32).toString('base64') },
    });
    expect(rotated.status).toBe(200);
    const version = Number(rotated.json?.data?.version);
    await eventually(async () => {
      const s = JSON.parse(await kubectlOk(['get', 'oceansite', SITE, '-n', ns, '-o', 'json']));
      return s.status?.encryptionKey?.version === version || undefined;
    }, `the site at key version ${version}`);
    await eventually(async () => {
      const d = JSON.parse(await kubectlOk(['get', 'deployment', RELAY, '-n', ns, '-o', 'json']));
      return d.spec.template.metadata.annotations['cloudconnect.dev/sek-version'] === String(version) || undefined;
    }, 'the relay told of the new version');
    await kubectlOk(['rollout', 'status', '-n', ns, `deployment/${RELAY}`, '--timeout=240s']);
    // `rollout status` returns while the old pod may still be terminating and reachable through the
    // Service: it would queue the message under the version it started with (decryptable, but not
    // what this test looks at). Wait until only pods of the new version are left.
    await eventually(
      async () => {
        const pods = JSON.parse(await kubectlOk(['get', 'pods', '-n', ns, '-l', `app.kubernetes.io/instance=${RELAY}`, '-o', 'json']))
          .items as { metadata: { deletionTimestamp?: string; annotations?: Record<string, string> } }[];
        const current = (p: (typeof pods)[number]) =>
          !p.metadata.deletionTimestamp && p.metadata.annotations?.['cloudconnect.dev/sek-version'] === String(version);
        return (pods.length > 0 && pods.every(current)) || undefined;
      },
      'only relay pods of the new key version',
      240_000,
    );
    // The EMR is away for a moment, so the message waits in the queue where its header can be read.
    site.accuro.setFault({ serverError: 503 });
    const before = site.accuro.documents.length;
    try {
      const delivery = await ocean.deliverWebhook(
        webhookUrl,
        eFormNoteMessage('e2e-rotated-1', patient(4)),
        {},
        { attempts: 60, retryDelayMs: 500 },
      );
      expect(delivery.status).toBe(202);
      const nc = await nats.connectAs(await nats.operatorCreds());
      try {
        const jsm = await jetstreamManager(nc);
        const names = relayQueueNames(ns, INTEGRATION);
        const stored = await eventually(async () => {
          const info = await jsm.streams.info(names.workStream);
          if (info.state.messages === 0) return undefined;
          return jsm.direct.getMessage(names.workStream, { seq: info.state.last_seq });
        }, 'the queued message');
        expect(stored?.header.get(KEY_VERSION_HEADER)).toBe(String(version));
      } finally {
        await nc.close();
      }
    } finally {
      site.accuro.clearFaults();
    }
    await eventually(
      async () => site.accuro.documents.length > before || undefined,
      'the rotated message delivered after the EMR is back',
      180_000,
    );
  });

  it('rolls to a new pod that authenticates when the EMR credentials Secret is edited', async () => {
    const podsBefore = (await kubectlOk(['get', 'pods', '-n', ns, '-l', `app.kubernetes.io/instance=${RELAY}`, '-o', 'name'])).trim();
    await kubectlOk(['patch', 'secret', site.credentialsSecret, '-n', ns, '--type=merge', '-p', '{"stringData":{"note":"edited by e2e"}}']);
    await eventually(
      async () => {
        const pods = (await kubectlOk(['get', 'pods', '-n', ns, '-l', `app.kubernetes.io/instance=${RELAY}`, '-o', 'name'])).trim();
        return (pods !== '' && !pods.split('\n').some((p) => podsBefore.includes(p))) || undefined;
      },
      'a new relay pod after the credentials edit',
      180_000,
    );
    await kubectlOk(['rollout', 'status', '-n', ns, `deployment/${RELAY}`, '--timeout=240s']);
    const before = site.accuro.documents.length;
    const delivery = await ocean.deliverWebhook(
      webhookUrl,
      eFormNoteMessage('e2e-after-edit-1', patient(5)),
      {},
      { attempts: 60, retryDelayMs: 500 },
    );
    expect(delivery.status).toBe(202);
    await eventually(async () => site.accuro.documents.length > before || undefined, 'the message delivered by the new pod', 120_000);
  });
});
