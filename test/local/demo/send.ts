// Has the demo's simulated Ocean send EMR-bound messages to every demo integration's relay, the way
// Ocean does: its webhook URL (the relay Service's ClusterIP), the integration's header
// (spec.webhook.keyHeader) and API key, read from Vault where the operator keeps it
// (<kv>/cloudconnect/<ns>/<site>/relay/<integration>, field current). Prints one line per message,
// delivered or not, never a key; exits 1 when any was not delivered.
//
//   node test/local/demo/send.ts [--count 3] [--local .local] [--wait-seconds 0] [--kv-mount secret]
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { EmrType } from '../../../operator/api/v1alpha1/emr-integration.ts';
import { DEFAULT_API_KEY_HEADER } from '../../../operator/cmd/relay/webhook-guard.ts';
import { relayName } from '../../../operator/controller/emrintegration/relay/deployment.ts';
import { controlRequest, type SendResult, type SendTarget } from './control.ts';
import { type LocalAccess, localAccess } from './kube.ts';
import { DEFAULT_LOCAL_DIR, DEMO_NAMESPACE, demoPaths } from './layout.ts';

interface Integration {
  metadata: { name: string; namespace: string };
  spec: { siteRef: { name: string }; emr: { type: EmrType }; webhook?: { keyHeader?: string; tls?: unknown } };
}
interface Service {
  spec: { clusterIP?: string; ports?: { name?: string; port: number }[] };
}

/** One integration: where its relay listens and with which key, or why it cannot be sent to. */
async function targetOf(access: LocalAccess, i: Integration, kvMount: string): Promise<SendTarget | SendResult> {
  const integration = `${i.metadata.namespace}/${i.metadata.name}`;
  const notSent = (error: string): SendResult => ({ integration, messageId: '-', messageType: '-', delivered: false, error });
  const svcJson = await access
    .kubectl(['get', 'service', relayName(i.metadata.name), '-n', i.metadata.namespace, '--ignore-not-found', '-o', 'json'])
    .catch(() => '');
  if (!svcJson.trim()) return notSent('not sent: the relay Service does not exist (yet)');
  const svc = JSON.parse(svcJson) as Service;
  const port = svc.spec.ports?.find((p) => p.name === 'webhook')?.port;
  if (!svc.spec.clusterIP || svc.spec.clusterIP === 'None' || port === undefined)
    return notSent('not sent: the relay Service has no ClusterIP');
  const path = `${kvMount}/data/cloudconnect/${i.metadata.namespace}/${i.spec.siteRef.name}/relay/${i.metadata.name}`;
  const record = await access.vaultRead(path);
  const key = (record?.['data'] as { data?: Record<string, string> } | undefined)?.data?.['current'];
  if (!key) return notSent('not sent: the webhook API key is not in Vault (yet)');
  const scheme = i.spec.webhook?.tls ? 'https' : 'http';
  return {
    integration,
    type: i.spec.emr.type,
    url: `${scheme}://${svc.spec.clusterIP}:${port}/ocean/webhook`,
    headerName: i.spec.webhook?.keyHeader ?? DEFAULT_API_KEY_HEADER,
    key,
  };
}

export async function resolveTargets(access: LocalAccess, kvMount = 'secret'): Promise<{ targets: SendTarget[]; skipped: SendResult[] }> {
  const list = JSON.parse(await access.kubectl(['get', 'emrintegrations', '-n', DEMO_NAMESPACE, '-o', 'json'])) as { items: Integration[] };
  const targets: SendTarget[] = [];
  const skipped: SendResult[] = [];
  for (const i of list.items.filter((x) => x.spec.emr.type !== 'None')) {
    const t = await targetOf(access, i, kvMount);
    if ('url' in t) targets.push(t);
    else skipped.push(t);
  }
  return { targets, skipped };
}

/** Waits until every relay has a ready endpoint, or the time is up (then sends anyway). */
async function waitForRelays(access: LocalAccess, targets: SendTarget[], seconds: number): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  const ready = async (t: SendTarget) => {
    const [ns, name] = t.integration.split('/') as [string, string];
    const out = await access.kubectl([
      'get',
      'endpointslices',
      '-n',
      ns,
      '-l',
      `kubernetes.io/service-name=${relayName(name)}`,
      '-o',
      'json',
    ]);
    const slices = JSON.parse(out) as { items: { endpoints?: { conditions?: { ready?: boolean } }[] }[] };
    return slices.items.some((s) => (s.endpoints ?? []).some((e) => e.conditions?.ready === true));
  };
  while (Date.now() < deadline) {
    if ((await Promise.all(targets.map(ready))).every(Boolean)) return;
    await sleep(2000);
  }
}

export function formatResult(r: SendResult): string {
  let verdict = 'failed';
  if (r.delivered) verdict = 'delivered';
  else if (r.status !== undefined) verdict = 'refused';
  else if (r.error?.startsWith('not sent')) verdict = 'not sent';
  const detail = [r.status === undefined ? '' : `HTTP ${r.status}`, r.error ?? ''].filter(Boolean).join(': ');
  return `${verdict.padEnd(9)} ${r.integration.padEnd(28)} ${r.messageType.padEnd(18)} ${r.messageId}${detail ? `  (${detail})` : ''}`;
}

export async function sendDemoMessages(
  localDir: string,
  options: { count: number; waitSeconds: number; kvMount: string; attempts: number },
): Promise<SendResult[]> {
  const access = localAccess(localDir);
  const { targets, skipped } = await resolveTargets(access, options.kvMount);
  if (options.waitSeconds > 0) await waitForRelays(access, targets, options.waitSeconds);
  const answer = await controlRequest<{ results: SendResult[] }>(demoPaths(localDir).controlSocket, '/send', {
    targets,
    count: options.count,
    attempts: options.attempts,
  });
  return [...answer.results, ...skipped];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '3' },
      local: { type: 'string' },
      'wait-seconds': { type: 'string', default: '0' },
      'kv-mount': { type: 'string', default: 'secret' },
      attempts: { type: 'string', default: '2' },
    },
    strict: true,
  });
  const whole = (v: string, name: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 1000) throw new Error(`--${name} must be a whole number up to 1000`);
    return n;
  };
  const results = await sendDemoMessages(resolve(values.local ?? DEFAULT_LOCAL_DIR), {
    count: whole(values.count, 'count'),
    waitSeconds: whole(values['wait-seconds'], 'wait-seconds'),
    kvMount: values['kv-mount'],
    attempts: Math.max(1, whole(values.attempts, 'attempts')),
  });
  for (const r of results) process.stdout.write(`${formatResult(r)}\n`);
  const delivered = results.filter((r) => r.delivered).length;
  process.stdout.write(`${delivered} of ${results.length} messages delivered to the relays\n`);
  if (delivered < results.length) process.exitCode = 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    process.stderr.write(`demo send: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
