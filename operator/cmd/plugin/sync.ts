// `kubectl cloudconnect sync <integration> [--full]`: "Sync Full Schedule" from the command line.
// Sets cloudconnect.dev/requestedAt on the integration's Appointments (or Full) SyncSchedule, then
// follows the run the operator starts for it (status.lastHandledRequestedAt, the Job, its pod) to
// its end and reports status.lastRun. Exit 1 when the run failed or the wait timed out.
import { BatchV1Api, CoreV1Api } from '@kubernetes/client-node';
import { REQUESTED_AT_ANNOTATION, RUN_LABELS, SYNC_SCHEDULE, type SyncSchedule } from '../../api/v1alpha1/index.ts';
import { manualRunName } from '../../internal/sitepod/sync-run.ts';
import { ignoreStatus } from '../../runtime/errors.ts';
import { getIntegration, getNamespaced, loadClient, type PluginClient, requestByAnnotation } from './client.ts';
import type { CommandIo } from './io.ts';
import { observeRun, progressLine, type RunObservation, resultLine } from './sync-progress.ts';
import { EXIT, GLOBAL_HELP, parseCommandArgs, parseTimeout, UsageError } from './usage.ts';

const SYNC_HELP = `Start a sync of an EmrIntegration now and follow it to its end ("Sync Full Schedule").

Usage:
  kubectl cloudconnect sync INTEGRATION [--full] [--schedule NAME] [--no-wait] [--timeout 10m]

Sets the cloudconnect.dev/requestedAt annotation on the integration's Appointments SyncSchedule
(--full: its Full SyncSchedule). The operator starts one run (a Job) per new value and records the
value in status.lastHandledRequestedAt; the run's result appears in status.lastRun. A run waits
while the integration is not Authenticated (the schedule is Blocked) and starts once it is.

Options:
      --full            the Full sync (providers, patients, appointments) instead of Appointments
      --schedule NAME   the SyncSchedule to use when the integration has several of that type
      --wait            follow the run to its end (default)
      --no-wait         only request the run
      --timeout D       give up waiting after D (default 10m); the run itself goes on

${GLOBAL_HELP}`;

const POLL_MS = 1000;
/** After the Job finished, how long to wait for the operator to record status.lastRun. */
const RECORD_GRACE_MS = 30_000;

export async function syncCommand(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'sync',
    args,
    {
      full: { type: 'boolean' },
      schedule: { type: 'string' },
      wait: { type: 'boolean' },
      'no-wait': { type: 'boolean' },
      timeout: { type: 'string' },
    },
    { min: 1, max: 1, names: 'INTEGRATION (the EmrIntegration to sync)' },
  );
  if (values.help) {
    io.out(`${SYNC_HELP}\n`);
    return EXIT.ok;
  }
  if (values.wait && values['no-wait']) throw new UsageError('--wait and --no-wait cannot be used together', 'sync');
  const timeoutMs = parseTimeout(values.timeout ?? '10m', 'sync');
  const integrationName = positionals[0];
  if (integrationName === undefined) throw new UsageError('missing argument: INTEGRATION (the EmrIntegration to sync)', 'sync');
  const type = values.full ? 'Full' : 'Appointments';
  const client = loadClient(values);
  const ns = client.namespace;

  const integration = await getIntegration(client, integrationName);
  if (integration.spec.emr.type === 'None') {
    io.err(`error: EmrIntegration ${integrationName} is non-integrated (emr.type None): there is nothing to sync\n`);
    return EXIT.failed;
  }
  const schedules = (await client.list<SyncSchedule>(SYNC_SCHEDULE, ns)).filter(
    (s) => s.spec.integrationRef?.name === integrationName && s.spec.type === type,
  );
  if (schedules.length === 0) {
    io.err(
      `error: EmrIntegration ${integrationName} has no ${type} SyncSchedule yet (the operator creates the two defaults 10 s after the integration; kubectl get syncschedules -n ${ns} lists them)\n`,
    );
    return EXIT.failed;
  }
  const schedule = pickSchedule(schedules, values.schedule, type, integrationName);
  if (schedule.spec.suspend) {
    io.err(`error: SyncSchedule ${schedule.metadata.name} is suspended: no run would start (set spec.suspend to false first)\n`);
    return EXIT.failed;
  }

  const token = await requestByAnnotation(client, SYNC_SCHEDULE, schedule.metadata.name, REQUESTED_AT_ANNOTATION, io.now());
  const runName = manualRunName(schedule.metadata.name, token);
  io.err(
    `Requested ${type === 'Appointments' ? 'an' : 'a'} ${type} sync of ${integrationName}: SyncSchedule ${schedule.metadata.name}, ${REQUESTED_AT_ANNOTATION}=${token}, run ${runName}\n`,
  );
  if (values['no-wait']) return EXIT.ok;
  return follow(client, io, { ns, token, runName, type, integrationName, scheduleName: schedule.metadata.name, timeoutMs });
}

function pickSchedule(schedules: SyncSchedule[], wanted: string | undefined, type: string, integration: string): SyncSchedule {
  if (wanted) {
    const s = schedules.find((x) => x.metadata.name === wanted);
    if (!s)
      throw new UsageError(
        `SyncSchedule ${wanted} is not a ${type} schedule of ${integration}${schedules.length ? ` (those are: ${schedules.map((x) => x.metadata.name).join(', ')})` : ''}`,
        'sync',
      );
    return s;
  }
  const live = schedules.filter((s) => !s.spec.suspend);
  if (live.length > 1)
    throw new UsageError(
      `EmrIntegration ${integration} has several ${type} SyncSchedules (${live.map((s) => s.metadata.name).join(', ')}): pick one with --schedule`,
      'sync',
    );
  const picked = live[0] ?? schedules[0];
  if (!picked) throw new Error(`EmrIntegration ${integration} has no ${type} SyncSchedule`);
  return picked;
}

interface FollowInput {
  ns: string;
  token: string;
  runName: string;
  type: string;
  integrationName: string;
  scheduleName: string;
  timeoutMs: number;
}

async function follow(client: PluginClient, io: CommandIo, input: FollowInput): Promise<number> {
  const batch = client.kc.makeApiClient(BatchV1Api);
  const core = client.kc.makeApiClient(CoreV1Api);
  const start = io.now().getTime();
  let lastLine = '';
  let finishingSince: number | undefined;
  let observation: RunObservation = { phase: 'Requested', detail: '' };
  const print = (line: string) => {
    if (io.interactive) io.err(`\r\u001b[2K${line}`);
    else if (line !== lastLine) io.err(`${line}\n`);
    lastLine = line;
  };
  for (;;) {
    const schedule = await getNamespaced<SyncSchedule>(client, SYNC_SCHEDULE.plural, input.ns, input.scheduleName);
    if (!schedule) {
      if (io.interactive) io.err('\n');
      io.err(`error: SyncSchedule ${input.scheduleName} was deleted while waiting\n`);
      return EXIT.failed;
    }
    const job = await batch.readNamespacedJob({ name: input.runName, namespace: input.ns }).catch(ignoreStatus(404));
    const pods = job
      ? (
          await core.listNamespacedPod({
            namespace: input.ns,
            labelSelector: `job-name=${input.runName},${RUN_LABELS.schedule}=${input.scheduleName}`,
          })
        ).items
      : [];
    observation = observeRun({ token: input.token, runName: input.runName, schedule, job, pods });
    const now = io.now().getTime();
    // Print the phase (and detail) but not the elapsed time when not on a TTY, so that lines only repeat on change.
    print(progressLine(input.type, input.integrationName, observation, io.interactive ? now - start : undefined));
    if (observation.phase === 'Finishing') finishingSince ??= now;
    const done = observation.phase === 'Finished' || (finishingSince !== undefined && now - finishingSince > RECORD_GRACE_MS);
    if (done && observation.result) {
      if (io.interactive) io.err('\n');
      io.out(`${resultLine(input.type, input.integrationName, observation.result)}\n`);
      return observation.result.result === 'Succeeded' ? EXIT.ok : EXIT.failed;
    }
    if (now - start > input.timeoutMs) {
      if (io.interactive) io.err('\n');
      io.err(
        `error: timed out after ${Math.round(input.timeoutMs / 1000)}s (${observation.phase}: ${observation.detail}); the request stays in place: kubectl cloudconnect status -n ${input.ns}\n`,
      );
      return EXIT.failed;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
