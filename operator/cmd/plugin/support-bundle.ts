// `kubectl cloudconnect support-bundle`: one namespace's Cloud Connect resources, the Jobs, Pods
// and Deployments the operator made for them, Secret names and key names (never values), Events,
// the status tree and the operator's logs, redacted (bundle-redact.ts), in a .tar.gz to attach to
// a support ticket.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { AppsV1Api, BatchV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { create as createTar } from 'tar';
import { stringify } from 'yaml';
import {
  EMR_INTEGRATION,
  type EmrIntegration,
  KINDS,
  OCEAN_SITE,
  type OceanSite,
  SYNC_SCHEDULE,
  type SyncSchedule,
} from '../../api/v1alpha1/index.ts';
import { bundleRedactor, redactLog, type SecretLike, sanitizeObject, secretSummary } from './bundle-redact.ts';
import { apiErrorMessage, loadClient } from './client.ts';
import type { CommandIo } from './io.ts';
import { renderStatus } from './status-render.ts';
import { EXIT, GLOBAL_HELP, parseCommandArgs, UsageError } from './usage.ts';

export const SUPPORT_BUNDLE_HELP = `Collect what support needs about one namespace into a redacted .tar.gz.

Usage:
  kubectl cloudconnect support-bundle [-n NAMESPACE] [-o FILE.tar.gz] [--operator-log FILE ...]

Collects: the OceanSites, EmrIntegrations and SyncSchedules; the Jobs, Pods and Deployments of the
operator in that namespace; Secret names and key names (never their values); Events; the status
tree; and the operator's logs (from --operator-log files, else from the operator's pods, found by
--operator-selector in every namespace you may list). Everything is redacted before it is written:
Secret values of the namespace, passwords, tokens, keys shaped like the SEK and patient fields
(support never gets passwords, the SEK, EMR credentials or patient information).

Options:
  -o, --output FILE            archive to write (default: cloudconnect-support-NAMESPACE-TIME.tar.gz)
      --operator-log FILE      an operator log file to include (repeatable); skips the pod logs
      --operator-selector SEL  label selector of the operator pods (default: app.kubernetes.io/name=cloudconnect-operator)
      --log-lines N            lines of each operator pod log to include (default 5000)

${GLOBAL_HELP}`;

const MANAGED = 'app.kubernetes.io/managed-by=cloudconnect-operator';

export async function supportBundleCommand(args: string[], io: CommandIo): Promise<number> {
  const { values } = parseCommandArgs(
    'support-bundle',
    args,
    {
      output: { type: 'string', short: 'o' },
      'operator-log': { type: 'string', multiple: true },
      'operator-selector': { type: 'string' },
      'log-lines': { type: 'string' },
    },
    { min: 0, max: 0, names: '' },
  );
  if (values.help) {
    io.out(`${SUPPORT_BUNDLE_HELP}\n`);
    return EXIT.ok;
  }
  const logLines = Number(values['log-lines'] ?? '5000');
  if (!Number.isInteger(logLines) || logLines <= 0) {
    throw new UsageError(`--log-lines must be a positive integer, not "${values['log-lines']}"`, 'support-bundle');
  }
  const client = loadClient(values);
  const ns = client.namespace;
  const stamp = io
    .now()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const top = `cloudconnect-support-${ns}-${stamp}`;
  const output = resolve(values.output ?? `${top}.tar.gz`);
  const core = client.kc.makeApiClient(CoreV1Api);
  const batch = client.kc.makeApiClient(BatchV1Api);
  const apps = client.kc.makeApiClient(AppsV1Api);
  const problems: string[] = [];
  const collected: string[] = [];
  const attempt = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (error) {
      problems.push(`${what}: ${apiErrorMessage(error)}`);
      return undefined;
    }
  };

  // Secrets first: their values are only ever held in memory, to scrub them from everything else.
  const secrets = ((await attempt('list Secrets', () => core.listNamespacedSecret({ namespace: ns })))?.items ?? []) as SecretLike[];
  const redactor = bundleRedactor(secrets);

  const dir = mkdtempSync(join(tmpdir(), 'cc-bundle-'));
  const root = join(dir, top);
  const write = (path: string, content: string) => {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content, { mode: 0o600 });
    collected.push(path);
  };
  const yamlOf = (items: unknown[]) => items.map((o) => stringify(sanitizeObject(o, redactor), { lineWidth: 0 })).join('---\n');

  try {
    const custom: Record<string, unknown[]> = {};
    for (const kind of KINDS) {
      const items = await attempt(`list ${kind.plural}`, () => client.list<unknown>(kind, ns));
      custom[kind.kind] = items ?? [];
      if (items) write(`resources/${kind.plural}.yaml`, yamlOf(items));
    }
    const jobs = await attempt('list Jobs', () => batch.listNamespacedJob({ namespace: ns, labelSelector: MANAGED }));
    if (jobs) write('resources/jobs.yaml', yamlOf(jobs.items));
    const pods = await attempt('list Pods', () => core.listNamespacedPod({ namespace: ns, labelSelector: MANAGED }));
    if (pods) write('resources/pods.yaml', yamlOf(pods.items));
    const deployments = await attempt('list Deployments', () => apps.listNamespacedDeployment({ namespace: ns, labelSelector: MANAGED }));
    if (deployments) write('resources/deployments.yaml', yamlOf(deployments.items));
    const serviceAccounts = await attempt('list ServiceAccounts', () => core.listNamespacedServiceAccount({ namespace: ns }));
    if (serviceAccounts) write('resources/serviceaccounts.yaml', yamlOf(serviceAccounts.items));
    write(
      'resources/secrets.yaml',
      stringify(
        secrets.map((s) => sanitizeObject(secretSummary(s), redactor)),
        { lineWidth: 0 },
      ),
    );
    const events = await attempt('list Events', () => core.listNamespacedEvent({ namespace: ns }));
    if (events) {
      const sorted = [...events.items].sort((a, b) =>
        String(a.lastTimestamp ?? a.eventTime ?? '').localeCompare(String(b.lastTimestamp ?? b.eventTime ?? '')),
      );
      write('events.yaml', yamlOf(sorted));
    }
    write('status.txt', scrubbedStatus(ns, custom, io.now(), redactor));

    const logFiles = values['operator-log'] ?? [];
    if (logFiles.length > 0) {
      for (const file of logFiles) {
        const text = await attempt(`read ${file}`, async () => readFileSync(file, 'utf8'));
        if (text !== undefined) write(`logs/${basename(file)}`, redactLog(text, redactor));
      }
    } else {
      const selector = values['operator-selector'] ?? 'app.kubernetes.io/name=cloudconnect-operator';
      const operatorPods = await attempt(`find the operator pods (${selector})`, () =>
        core.listPodForAllNamespaces({ labelSelector: selector }),
      );
      if (operatorPods && operatorPods.items.length === 0)
        problems.push(`no operator pods match ${selector}: pass the operator's log with --operator-log FILE`);
      for (const pod of operatorPods?.items ?? ([] as V1Pod[])) {
        const name = pod.metadata?.name ?? '';
        const podNs = pod.metadata?.namespace ?? '';
        for (const container of pod.spec?.containers ?? []) {
          const log = await attempt(`logs of ${podNs}/${name}/${container.name}`, () =>
            core.readNamespacedPodLog({ name, namespace: podNs, container: container.name, tailLines: logLines }),
          );
          if (log !== undefined) write(`logs/${podNs}_${name}_${container.name}.log`, redactLog(String(log), redactor));
        }
      }
    }

    const manifest = {
      namespace: ns,
      createdAt: io.now().toISOString(),
      server: client.kc.getCurrentCluster()?.server ?? '',
      files: [...collected].sort(),
      problems: problems.map((p) => redactor.string(p)),
      redaction: [
        'Secrets: names, types and key names only; their values were used in memory to scrub every other file and were never written',
        'kubectl.kubernetes.io/last-applied-configuration annotations and managedFields removed',
        'fields named like secrets (password, token, secret, key, credential, ...) and patient data (patient, firstName, lastName, birthDate, phone, address, hcn, ...) replaced with [REDACTED]',
        'strings shaped like bearer tokens, JWTs, Vault tokens, PEM blocks, OAuth parameters and 256-bit keys (base64 or hex) replaced with [REDACTED]',
      ],
    };
    write('manifest.json', `${JSON.stringify(manifest, null, 2)}\n`);
    write('README.txt', readme(ns));
    mkdirSync(dirname(output), { recursive: true });
    await createTar({ gzip: true, file: output, cwd: dir, portable: true }, [top]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  io.err(
    `${collected.length} files${problems.length > 0 ? `, ${problems.length} problem${problems.length > 1 ? 's' : ''} (listed in manifest.json):\n${problems.map((p) => `  - ${redactor.string(p)}`).join('\n')}` : ''}\n`,
  );
  io.out(`${output}\n`);
  return EXIT.ok;
}

function scrubbedStatus(ns: string, custom: Record<string, unknown[]>, now: Date, redactor: ReturnType<typeof bundleRedactor>): string {
  const text = renderStatus({
    namespace: ns,
    sites: (custom[OCEAN_SITE.kind] ?? []) as OceanSite[],
    integrations: (custom[EMR_INTEGRATION.kind] ?? []) as EmrIntegration[],
    schedules: (custom[SYNC_SCHEDULE.kind] ?? []) as SyncSchedule[],
    now,
    color: false,
  });
  return redactLog(text, redactor);
}

function readme(ns: string): string {
  return `Cloud Connect support bundle for namespace ${ns}, made by kubectl cloudconnect support-bundle.

status.txt        the site -> integrations -> schedules tree with health and last/next sync
resources/        OceanSites, EmrIntegrations, SyncSchedules, the operator's Jobs, Pods and Deployments,
                  ServiceAccounts, and Secrets as names and key names only
events.yaml       the namespace's Events, oldest first
logs/             the operator's logs
manifest.json     what was collected, what could not be, and how everything was redacted

Secret values, passwords, tokens, the SEK and patient data were redacted before anything was
written. Patients are referred to by EMR id or Ocean reference only.
`;
}
