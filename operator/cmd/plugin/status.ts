// `kubectl cloudconnect status`: reads the three kinds of one namespace and prints the tree.
import {
  EMR_INTEGRATION,
  type EmrIntegration,
  OCEAN_SITE,
  type OceanSite,
  SYNC_SCHEDULE,
  type SyncSchedule,
} from '../../api/v1alpha1/index.ts';
import { loadClient } from './client.ts';
import type { CommandIo } from './io.ts';
import { renderStatus } from './status-render.ts';
import { EXIT, GLOBAL_HELP, parseCommandArgs } from './usage.ts';

export const STATUS_HELP = `Show an Ocean site's integrations and their sync schedules as a tree, with health and last/next sync.

Usage:
  kubectl cloudconnect status [-n NAMESPACE]

Health words: Ready, Suspended, Blocked (waiting on the integration or site it depends on),
Reconciling, NotReady (with the Ready condition's reason), Stalled (the spec cannot work as written),
Pending (not reported on yet).

${GLOBAL_HELP}`;

export async function statusCommand(args: string[], io: CommandIo): Promise<number> {
  const { values } = parseCommandArgs('status', args, {}, { min: 0, max: 0, names: '' });
  if (values.help) {
    io.out(`${STATUS_HELP}\n`);
    return EXIT.ok;
  }
  const client = loadClient(values);
  const ns = client.namespace;
  const [sites, integrations, schedules] = await Promise.all([
    client.list<OceanSite>(OCEAN_SITE, ns),
    client.list<EmrIntegration>(EMR_INTEGRATION, ns),
    client.list<SyncSchedule>(SYNC_SCHEDULE, ns),
  ]);
  io.out(renderStatus({ namespace: ns, sites, integrations, schedules, now: io.now(), color: io.color }));
  return EXIT.ok;
}
