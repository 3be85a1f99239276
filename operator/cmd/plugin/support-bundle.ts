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
import type { Redactor } from '../../runtime/redact.ts';
import { bundleRedactor, redactLog, type SecretLike, sanitizeObject, secretSummary } from './bundle-redact.ts';
import { apiErrorMessage, loadClient, type PluginClient } from './client.ts';
import type { CommandIo } from './io.ts';
import { renderStatus } from './status-render.ts';
import { EXIT, GLOBAL_HELP, parseCommandArgs, UsageError } from './usage.ts';

const SUPPORT_BUNDLE_HELP = `Collect what support needs about one namespace into a redacted .tar.gz.

Usage:
  kubectl cloudconnect support-bundle [-n NAMESPACE] [-o FILE.tar.gz] [--operator-log FILE ...]

Collects: the OceanSites, EmrIntegrations and SyncSchedules; the Jobs, Pods and Deployments of the
operator in that namespace; Secret names and key names (never their values); Events; the status
tree; and the operator's logs (from --operator-log files, else from the operator's pods, found by
--operator-selector in every namespace you may list). Everything is redacted before it is written:
Secret values of the namespace, passwords, tokens, keys shaped like the SEK and patient fields
(support never gets passwords, the SEK, EMR credentials or patient information). What you may not
read (a support site's members read no Secret) is listed in manifest.json instead.

Options:
  -o, --output FILE            archive to write (default: cloudconnect-support-NAMESPACE-TIME.tar.gz)
      --operator-log FILE      an operator log file to include (repeatable); skips the pod logs
      --operator-selector SEL  label selector of the operator pods (default: app.kubernetes.io/name=cloudconnect-operator)
      --log-lines N            lines of each operator pod log to include (default 5000)

${GLOBAL_HELP}`;

const MANAGED = 'app.kubernetes.io/managed-by=cloudconnect-operator';
const DEFAULT_OPERATOR_SELECTOR = 'app.kubernetes.io/name=cloudconnect-operator';

const REDACTION_NOTES = [
  'Secrets: names, types and key names only; their values were used in memory to scrub every other file and were never written, whatever their length (values of 1 to 3 characters as whole tokens), as is, URL-encoded, JSON-escaped and base64-encoded',
  'kubectl.kubernetes.io/last-applied-configuration annotations and managedFields removed',
  'fields named like secrets (password, token, secret, key, credential, ...) and patient data (patient, firstName, lastName, birthDate, healthNumber, phone, email, address, postalCode, ...: the list the operator uses) replaced with [REDACTED]',
  'strings shaped like bearer tokens, JWTs, Vault tokens, PEM blocks, OAuth parameters and 256-bit keys (base64 or hex) replaced with [REDACTED]',
];

/** When Secrets could not be listed (a support member may read none): no secrets.yaml, and no value to scrub by. */
const SECRETS_UNREADABLE_NOTE =
  'Secrets could not be listed (see problems): resources/secrets.yaml is missing, and other files were scrubbed by the patterns above only, not by Secret values';

interface Apis {
  core: CoreV1Api;
  batch: BatchV1Api;
  apps: AppsV1Api;
}

/** A list of built-in objects of the namespace, and the file it goes to. */
interface NamespacedList {
  what: string;
  file: string;
  list(apis: Apis, namespace: string): Promise<{ items: unknown[] }>;
}

/** The built-in objects of the namespace a bundle carries, in the order they are listed. */
const NAMESPACED_LISTS: readonly NamespacedList[] = [
  {
    what: 'list Jobs',
    file: 'resources/jobs.yaml',
    list: (a, namespace) => a.batch.listNamespacedJob({ namespace, labelSelector: MANAGED }),
  },
  {
    what: 'list Pods',
    file: 'resources/pods.yaml',
    list: (a, namespace) => a.core.listNamespacedPod({ namespace, labelSelector: MANAGED }),
  },
  {
    what: 'list Deployments',
    file: 'resources/deployments.yaml',
    list: (a, namespace) => a.apps.listNamespacedDeployment({ namespace, labelSelector: MANAGED }),
  },
  {
    what: 'list ServiceAccounts',
    file: 'resources/serviceaccounts.yaml',
    list: (a, namespace) => a.core.listNamespacedServiceAccount({ namespace }),
  },
];

/** Where the operator's logs come from: the --operator-log files, else the pods matching `selector` (last `lines` lines). */
interface LogOptions {
  files: string[];
  selector: string;
  lines: number;
}

/**
 * One bundle being written: its namespace and APIs, the redactor every file goes through, the files
 * written so far (paths under the bundle's top directory) and what could not be collected.
 */
interface Bundle {
  ns: string;
  apis: Apis;
  redactor: Redactor;
  collected: string[];
  problems: string[];
  /** Runs `fn`; on failure records "what: message" as a problem and gives undefined. */
  attempt<T>(what: string, fn: () => Promise<T>): Promise<T | undefined>;
  write(path: string, content: string): void;
  /** Sanitized objects as a multi-document YAML. */
  yamlOf(items: unknown[]): string;
}

export async function supportBundleCommand(args: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs(args);
  if (values.help) {
    io.out(`${SUPPORT_BUNDLE_HELP}\n`);
    return EXIT.ok;
  }
  const logs = logOptions(values);
  const client = loadClient(values);
  const top = `cloudconnect-support-${client.namespace}-${compactTimestamp(io.now())}`;
  const output = resolve(values.output ?? `${top}.tar.gz`);
  const apis = apiClients(client);
  const problems: string[] = [];
  const attempt = attempter(problems);
  // Secrets first: their values are only ever held in memory, to scrub them from everything else.
  // A support member may read none (403): the bundle then scrubs by pattern only and says so.
  const secrets = await listSecrets(apis, client.namespace, attempt);
  const dir = mkdtempSync(join(tmpdir(), 'cc-bundle-'));
  const redactor = bundleRedactor(secrets ?? []);
  const bundle = openBundle(join(dir, top), { ns: client.namespace, apis, redactor, problems, attempt });
  try {
    await collect(bundle, client, secrets, logs, io);
    mkdirSync(dirname(output), { recursive: true });
    await createTar({ gzip: true, file: output, cwd: dir, portable: true }, [top]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  io.err(summary(bundle));
  io.out(`${output}\n`);
  return EXIT.ok;
}

function parseArgs(args: string[]) {
  return parseCommandArgs(
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
}

function logOptions(values: ReturnType<typeof parseArgs>['values']): LogOptions {
  const text = values['log-lines'];
  const lines = Number(text ?? '5000');
  if (!Number.isInteger(lines) || lines <= 0) {
    throw new UsageError(`--log-lines must be a positive integer, not "${text}"`, 'support-bundle');
  }
  return { files: values['operator-log'] ?? [], selector: values['operator-selector'] ?? DEFAULT_OPERATOR_SELECTOR, lines };
}

/** 2026-11-28T12:00:00.123Z → 20261128T120000Z. */
function compactTimestamp(time: Date): string {
  return time
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

function attempter(problems: string[]): Bundle['attempt'] {
  return async (what, fn) => {
    try {
      return await fn();
    } catch (error) {
      problems.push(`${what}: ${apiErrorMessage(error)}`);
      return undefined;
    }
  };
}

function apiClients(client: PluginClient): Apis {
  return {
    core: client.kc.makeApiClient(CoreV1Api),
    batch: client.kc.makeApiClient(BatchV1Api),
    apps: client.kc.makeApiClient(AppsV1Api),
  };
}

/** The namespace's Secrets, or undefined when they could not be listed (recorded as a problem). */
async function listSecrets(apis: Apis, namespace: string, attempt: Bundle['attempt']): Promise<SecretLike[] | undefined> {
  return (await attempt('list Secrets', () => apis.core.listNamespacedSecret({ namespace })))?.items as SecretLike[] | undefined;
}

/** A bundle writing under `root`, files readable by the owner only. */
function openBundle(root: string, parts: Omit<Bundle, 'collected' | 'write' | 'yamlOf'>): Bundle {
  const collected: string[] = [];
  return {
    ...parts,
    collected,
    write(path, content) {
      const full = join(root, path);
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, content, { mode: 0o600 });
      collected.push(path);
    },
    yamlOf: (items) => items.map((o) => stringify(sanitizeObject(o, parts.redactor), { lineWidth: 0 })).join('---\n'),
  };
}

/**
 * Every file of the bundle, in order: resources, Secrets, Events, status, logs, manifest, README.
 * Secrets that could not be listed (undefined) write no secrets.yaml; the manifest says so.
 */
async function collect(
  bundle: Bundle,
  client: PluginClient,
  secrets: SecretLike[] | undefined,
  logs: LogOptions,
  io: CommandIo,
): Promise<void> {
  const custom = await collectCustomResources(bundle, client);
  await collectNamespacedLists(bundle);
  if (secrets) {
    const summaries = secrets.map((s) => sanitizeObject(secretSummary(s), bundle.redactor));
    bundle.write('resources/secrets.yaml', stringify(summaries, { lineWidth: 0 }));
  }
  await collectEvents(bundle);
  bundle.write('status.txt', scrubbedStatus(bundle.ns, custom, io.now(), bundle.redactor));
  if (logs.files.length > 0) await collectLogFiles(bundle, logs.files);
  else await collectPodLogs(bundle, logs.selector, logs.lines);
  const redaction = secrets ? REDACTION_NOTES : [...REDACTION_NOTES, SECRETS_UNREADABLE_NOTE];
  const server = client.kc.getCurrentCluster()?.server ?? '';
  bundle.write('manifest.json', `${JSON.stringify(manifest(bundle, io.now(), server, redaction), null, 2)}\n`);
  bundle.write('README.txt', readme(bundle.ns));
}

/** Our OceanSites, EmrIntegrations and SyncSchedules, written and returned by kind (empty when listing failed). */
async function collectCustomResources(bundle: Bundle, client: PluginClient): Promise<Record<string, unknown[]>> {
  const custom: Record<string, unknown[]> = {};
  for (const kind of KINDS) {
    const items = await bundle.attempt(`list ${kind.plural}`, () => client.list<unknown>(kind, bundle.ns));
    custom[kind.kind] = items ?? [];
    if (items) bundle.write(`resources/${kind.plural}.yaml`, bundle.yamlOf(items));
  }
  return custom;
}

async function collectNamespacedLists(bundle: Bundle): Promise<void> {
  for (const { what, file, list } of NAMESPACED_LISTS) {
    const result = await bundle.attempt(what, () => list(bundle.apis, bundle.ns));
    if (result) bundle.write(file, bundle.yamlOf(result.items));
  }
}

/** The namespace's Events, oldest first. */
async function collectEvents(bundle: Bundle): Promise<void> {
  const events = await bundle.attempt('list Events', () => bundle.apis.core.listNamespacedEvent({ namespace: bundle.ns }));
  if (!events) return;
  const sorted = [...events.items].sort((a, b) =>
    String(a.lastTimestamp ?? a.eventTime ?? '').localeCompare(String(b.lastTimestamp ?? b.eventTime ?? '')),
  );
  bundle.write('events.yaml', bundle.yamlOf(sorted));
}

/** The operator log files given with --operator-log. */
async function collectLogFiles(bundle: Bundle, files: string[]): Promise<void> {
  for (const file of files) {
    const text = await bundle.attempt(`read ${file}`, async () => readFileSync(file, 'utf8'));
    if (text !== undefined) bundle.write(`logs/${basename(file)}`, redactLog(text, bundle.redactor));
  }
}

/** The last `logLines` lines of every container of the operator pods, in every namespace the user may list. */
async function collectPodLogs(bundle: Bundle, selector: string, logLines: number): Promise<void> {
  const { core } = bundle.apis;
  const operatorPods = await bundle.attempt(`find the operator pods (${selector})`, () =>
    core.listPodForAllNamespaces({ labelSelector: selector }),
  );
  if (operatorPods && operatorPods.items.length === 0)
    bundle.problems.push(`no operator pods match ${selector}: pass the operator's log with --operator-log FILE`);
  for (const pod of operatorPods?.items ?? ([] as V1Pod[])) {
    const name = pod.metadata?.name ?? '';
    const podNs = pod.metadata?.namespace ?? '';
    for (const container of pod.spec?.containers ?? []) {
      const log = await bundle.attempt(`logs of ${podNs}/${name}/${container.name}`, () =>
        core.readNamespacedPodLog({ name, namespace: podNs, container: container.name, tailLines: logLines }),
      );
      if (log !== undefined) bundle.write(`logs/${podNs}_${name}_${container.name}.log`, redactLog(String(log), bundle.redactor));
    }
  }
}

/** manifest.json: what was collected, what could not be (redacted), and how everything was redacted. */
function manifest(bundle: Bundle, createdAt: Date, server: string, redaction: readonly string[]) {
  return {
    namespace: bundle.ns,
    createdAt: createdAt.toISOString(),
    server,
    files: [...bundle.collected].sort(),
    problems: bundle.problems.map((p) => bundle.redactor.string(p)),
    redaction,
  };
}

/** "N files", and the problems (redacted) when there were any. */
function summary(bundle: Bundle): string {
  const { collected, problems, redactor } = bundle;
  if (problems.length === 0) return `${collected.length} files\n`;
  const list = problems.map((p) => `  - ${redactor.string(p)}`).join('\n');
  return `${collected.length} files, ${problems.length} problem${problems.length > 1 ? 's' : ''} (listed in manifest.json):\n${list}\n`;
}

function scrubbedStatus(ns: string, custom: Record<string, unknown[]>, now: Date, redactor: Redactor): string {
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
