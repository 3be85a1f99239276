// `kubectl cloudconnect status`: reads the three kinds of one namespace and prints the tree, or with
// -A/--all-namespaces those of every namespace as one table with a NAMESPACE column.
import {
  EMR_INTEGRATION,
  type EmrIntegration,
  OCEAN_SITE,
  type OceanSite,
  SYNC_SCHEDULE,
  type SyncSchedule,
} from '../../api/v1alpha1/index.ts';
import { type ClientOptions, loadClient } from './client.ts';
import type { CommandIo } from './io.ts';
import { renderStatus, renderStatusAllNamespaces } from './status-render.ts';
import { EXIT, GLOBAL_HELP, parseCommandArgs } from './usage.ts';

const STATUS_HELP = `Show an Ocean site's integrations and their sync schedules as a tree, with health and last/next sync.

Usage:
  kubectl cloudconnect status [-n NAMESPACE]
  kubectl cloudconnect status -A

Options:
  -A, --all-namespaces  list every OceanSite, EmrIntegration and SyncSchedule in every namespace as
                        one table with a NAMESPACE column (-n is then ignored, as with kubectl)

Health words: Ready, Suspended, Blocked (waiting on the integration or site it depends on),
Reconciling, NotReady (with the Ready condition's reason), Stalled (the spec cannot work as written),
Pending (not reported on yet).

${GLOBAL_HELP}`;

export interface StatusArgs {
  help: boolean;
  allNamespaces: boolean;
  client: ClientOptions;
}

/** Pure: the status command line. With --all-namespaces the namespace is dropped, as kubectl does. */
export function parseStatusArgs(args: string[]): StatusArgs {
  const { values } = parseCommandArgs('status', args, { 'all-namespaces': { type: 'boolean', short: 'A' } }, { min: 0, max: 0, names: '' });
  const allNamespaces = values['all-namespaces'] === true;
  return {
    help: values.help === true,
    allNamespaces,
    client: {
      kubeconfig: values.kubeconfig,
      context: values.context,
      namespace: allNamespaces ? undefined : values.namespace,
    },
  };
}

export async function statusCommand(args: string[], io: CommandIo): Promise<number> {
  const parsed = parseStatusArgs(args);
  if (parsed.help) {
    io.out(`${STATUS_HELP}\n`);
    return EXIT.ok;
  }
  const client = loadClient(parsed.client);
  if (parsed.allNamespaces) {
    const [sites, integrations, schedules] = await Promise.all([
      client.listAllNamespaces<OceanSite>(OCEAN_SITE),
      client.listAllNamespaces<EmrIntegration>(EMR_INTEGRATION),
      client.listAllNamespaces<SyncSchedule>(SYNC_SCHEDULE),
    ]);
    io.out(renderStatusAllNamespaces({ sites, integrations, schedules, now: io.now(), color: io.color }));
    return EXIT.ok;
  }
  const ns = client.namespace;
  const [sites, integrations, schedules] = await Promise.all([
    client.list<OceanSite>(OCEAN_SITE, ns),
    client.list<EmrIntegration>(EMR_INTEGRATION, ns),
    client.list<SyncSchedule>(SYNC_SCHEDULE, ns),
  ]);
  io.out(renderStatus({ namespace: ns, sites, integrations, schedules, now: io.now(), color: io.color }));
  return EXIT.ok;
}
