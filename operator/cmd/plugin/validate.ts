// `kubectl cloudconnect validate -f FILE`: every document checked by a server-side dry run when a
// cluster is reachable, else (or with --offline) against the CRD schemas here, which cannot
// evaluate CEL rules and says so.

import { readFileSync } from 'node:fs';
import type { KubernetesObject } from '@kubernetes/client-node';
import { redactor } from '../../runtime/redact.ts';
import { loadClient, type PluginClient } from './client.ts';
import type { CommandIo } from './io.ts';
import { type ManifestDocument, readManifests } from './manifests.ts';
import { formatFieldError, refOf, validateOffline } from './offline-validate.ts';
import { probeServer, ServerValidator, statusErrors } from './server-validate.ts';
import { EXIT, GLOBAL_HELP, parseCommandArgs, UsageError } from './usage.ts';
import { type DocumentResult, renderReport } from './validate-report.ts';

const VALIDATE_HELP = `Check Cloud Connect manifests before committing them.

Usage:
  kubectl cloudconnect validate -f FILE|DIR|- [-f ...] [-R] [--offline] [-v]

With a reachable cluster every document goes through a server-side dry run (dryRun=All,
fieldValidation=Strict, as kubectl apply --dry-run=server --validate=strict): the CRD schema and
its CEL rules, admission, everything but persisting. Without one (or with --offline) the
cloudconnect.dev documents are checked against the CRD schemas generated from the typed API:
types, required fields, enums, patterns, lengths, ranges and unknown fields. CEL rules
(x-kubernetes-validations) cannot be evaluated offline; the output says how many were skipped.
Errors name the field path. Exit code 1 when a document is invalid.

Options:
  -f, --filename PATH   a manifest file (multi-document YAML or JSON), a directory, or - for stdin
  -R, --recursive       also read the directories below a -f directory
      --offline         do not contact a cluster
  -v, --verbose         list the CEL rules that were not evaluated offline

${GLOBAL_HELP}`;

export async function validateCommand(args: string[], io: CommandIo, stdin: () => string = () => readFileSync(0, 'utf8')): Promise<number> {
  const { values } = parseCommandArgs(
    'validate',
    args,
    {
      filename: { type: 'string', short: 'f', multiple: true },
      recursive: { type: 'boolean', short: 'R' },
      offline: { type: 'boolean' },
      verbose: { type: 'boolean', short: 'v' },
    },
    { min: 0, max: 0, names: '' },
  );
  if (values.help) {
    io.out(`${VALIDATE_HELP}\n`);
    return EXIT.ok;
  }
  if (!values.filename || values.filename.length === 0)
    throw new UsageError('-f FILE is required (a file, a directory, or - for stdin)', 'validate');
  let documents: ManifestDocument[];
  try {
    documents = readManifests(values.filename, values.recursive ?? false, stdin);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error), 'validate');
  }
  if (documents.length === 0) throw new UsageError(`no manifests found in ${values.filename.join(', ')}`, 'validate');

  let client: PluginClient | undefined;
  let offlineBecause: string | undefined;
  if (!values.offline) {
    try {
      client = loadClient(values);
      const unreachable = await probeServer(client.kc);
      if (unreachable) {
        offlineBecause = `the cluster at ${client.kc.getCurrentCluster()?.server ?? '?'} is not reachable (${unreachable})`;
        client = undefined;
      }
    } catch (error) {
      offlineBecause = `no usable kubeconfig (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`;
      client = undefined;
    }
  }
  const validator = client ? new ServerValidator(client.kc, client.namespace) : undefined;
  const declaredNamespaces = new Set(
    documents.map((d) => refOf(d.value)).flatMap((r) => (r.kind === 'Namespace' && r.apiVersion === 'v1' && r.name ? [r.name] : [])),
  );

  const results: DocumentResult[] = [];
  for (const doc of documents) results.push(await validateDocument(doc, validator, declaredNamespaces));
  io.out(
    redactor.string(
      renderReport(results, {
        mode: validator ? 'server' : 'offline',
        ...(client ? { server: client.kc.getCurrentCluster()?.server ?? '' } : {}),
        ...(offlineBecause ? { offlineBecause } : {}),
        verbose: values.verbose ?? false,
      }),
    ),
  );
  return results.some((r) => r.outcome === 'invalid') ? EXIT.failed : EXIT.ok;
}

async function validateDocument(
  doc: ManifestDocument,
  validator: ServerValidator | undefined,
  declaredNamespaces: Set<string>,
): Promise<DocumentResult> {
  const base = { source: doc.source, index: doc.index, line: doc.line, ref: refOf(doc.value), notes: [] as string[], uncheckedRules: [] };
  if (doc.parseError) return { ...base, outcome: 'invalid', checkedBy: 'none', errors: [`YAML: ${doc.parseError}`] };
  const offline = (notes: string[] = []): DocumentResult => {
    const r = validateOffline(doc.value);
    if (r.skipped) return { ...base, outcome: 'skipped', checkedBy: 'none', errors: [], notes: [...notes, r.skipped] };
    return {
      ...base,
      outcome: r.errors.length > 0 ? 'invalid' : 'valid',
      checkedBy: 'offline',
      errors: r.errors.map(formatFieldError),
      notes,
      uncheckedRules: r.uncheckedRules,
    };
  };
  if (!validator) return offline();
  // The API server needs at least apiVersion, kind and a name to route the request.
  const local = validateOffline(doc.value);
  if (!base.ref.apiVersion || !base.ref.kind || local.errors.some((e) => e.field === '<document>')) return offline();
  const outcome = await validator.dryRun(doc.value as KubernetesObject);
  if (outcome.ok) return { ...base, outcome: 'valid', checkedBy: 'server', errors: [] };
  if (outcome.missingNamespace !== undefined) {
    const ns = outcome.missingNamespace;
    const why = declaredNamespaces.has(ns)
      ? `namespace ${ns} does not exist yet (these manifests create it; a dry run cannot), so this document was checked offline`
      : `namespace ${ns} does not exist: create it first (a server-side dry run does not create it); checked offline meanwhile`;
    return offline([why]);
  }
  return { ...base, outcome: 'invalid', checkedBy: 'server', errors: statusErrors(outcome.status, outcome.message) };
}
