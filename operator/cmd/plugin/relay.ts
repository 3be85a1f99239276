// `kubectl cloudconnect relay replay <integration>`: once the cause is fixed, move an integration's
// dead-lettered EMR-bound messages back to its relay queue. Sets the annotation
// cloudconnect.dev/replayRequestedAt to a new token; the operator moves the messages and records the
// token in status.relay.lastHandledReplayAt with the count in status.relay.lastReplayedCount.
import { EMR_INTEGRATION, type EmrIntegration, REPLAY_REQUESTED_AT_ANNOTATION } from '../../api/v1alpha1/index.ts';
import { findCondition } from '../../runtime/conditions.ts';
import { getIntegration, getNamespaced, loadClient, requestByAnnotation } from './client.ts';
import type { CommandIo } from './io.ts';
import { EXIT, GLOBAL_HELP, parseCommandArgs, parseTimeout, UsageError } from './usage.ts';

const RELAY_HELP = `Act on the relay of EMR-bound messages of an EmrIntegration.

Usage:
  kubectl cloudconnect relay replay INTEGRATION [--no-wait] [--timeout 2m]

replay   move the integration's dead-lettered messages back to its delivery queue, once the cause
         (EMR down, refused document, expired credentials) is fixed. Sets the annotation
         ${REPLAY_REQUESTED_AT_ANNOTATION}; the operator records the handled value in
         status.relay.lastHandledReplayAt and how many messages it moved in lastReplayedCount.
         Each message keeps its idempotency key, so the EMR never files one twice.

Options:
      --no-wait     only request the replay
      --timeout D   give up waiting after D (default 2m)

${GLOBAL_HELP}`;

const POLL_MS = 1000;

export async function relayCommand(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'relay',
    args,
    { 'no-wait': { type: 'boolean' }, timeout: { type: 'string' } },
    { min: 2, max: 2, names: 'replay INTEGRATION' },
  );
  if (values.help) {
    io.out(`${RELAY_HELP}\n`);
    return EXIT.ok;
  }
  const [action, name] = positionals as [string, string];
  if (action !== 'replay') throw new UsageError(`unknown relay action "${action}" (known: replay)`, 'relay');
  const timeoutMs = parseTimeout(values.timeout ?? '2m', 'relay');
  const client = loadClient(values);
  const ns = client.namespace;
  await getIntegration(client, name);
  const token = await requestByAnnotation(client, EMR_INTEGRATION, name, REPLAY_REQUESTED_AT_ANNOTATION, io.now());
  io.err(`Requested a replay of EmrIntegration ${ns}/${name}'s dead letters (${REPLAY_REQUESTED_AT_ANNOTATION}=${token})\n`);
  if (values['no-wait']) return EXIT.ok;

  const deadline = io.now().getTime() + timeoutMs;
  for (;;) {
    const current = await getNamespaced<EmrIntegration>(client, EMR_INTEGRATION.plural, ns, name);
    const relay = current?.status?.relay;
    if (relay?.lastHandledReplayAt === token) {
      const count = relay.lastReplayedCount ?? 0;
      io.out(`Replayed ${count} dead-lettered message${count === 1 ? '' : 's'} of ${ns}/${name}; ${relay.pending ?? 0} pending delivery\n`);
      return EXIT.ok;
    }
    if (io.now().getTime() > deadline) {
      const delivering = findCondition(current?.status?.conditions, 'Delivering');
      io.err(
        `error: the operator has not handled the replay after ${Math.round(timeoutMs / 1000)} s${delivering ? ` (Delivering=${delivering.status} ${delivering.reason}: ${delivering.message})` : ''}\n`,
      );
      return EXIT.failed;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
