// Delivery: the integration's durable consumer, explicit acks. Per message: decrypt with the SEK
// version its header names, perform it in the EMR with an idempotency key derived from Ocean's
// message id, each step recorded in the delivery-record bucket before and after its post
// (delivery-record.ts: a redelivery after a crash files nothing twice, even in an EMR that ignores
// the key), then ack; on failure nak with the
// schedule's delay (schedule.ts, counted from receipt on the relay clock), or past the schedule move
// it to the dead-letter subject. Messages are handled `concurrency` at a time.
// Filing follows the integration's settings (filing.ts); records held because automatic import is off
// end the message in the dead-letter subject with reason AttachmentsImportDisabled (metric result
// `held`), replayable once the setting is on. With Combine Progress Notes, the eForms of one sitting
// are held together (combine.ts) and filed as one progress note. An eReferral bundle (type
// referralBundle) is forwarded to spec.eReferral.forward instead (forward-referral.ts), recorded in
// the delivery record like a filing step; an integration without an EMR has only those.
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { EmrAdapter } from '../../internal/emr/adapter.ts';
import { EmrError } from '../../internal/emr/adapter.ts';
import { KEY_VERSION_HEADER, relayQueueNames } from '../../internal/relayqueue/contract.ts';
import {
  CONTENT_HASH_HEADER,
  deadLetter,
  FIRST_RECEIVED_AT_HEADER,
  OCEAN_MESSAGE_ID_HEADER,
  RECEIVED_AT_HEADER,
} from '../../internal/relayqueue/queue.ts';
import { decryptBatch, RELAY_MESSAGE_KIND } from '../../internal/sek/crypto.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { RelayClock } from '../../runtime/scaled-clock.ts';
import type { CheckInSettings } from './check-in.ts';
import { combinedKeyOf, SittingCombiner, type SittingMember } from './combine.ts';
import { deliverToEmr, heldError, performSteps } from './deliver.ts';
import { createStepGuard, type StepGuard } from './delivery-record.ts';
import { combinedNote, type FilingSettings, planFiling, sittingOf } from './filing.ts';
import type { ReferralForwarder } from './forward-referral.ts';
import { contentHashOf } from './message-id.ts';
import { InvalidMessageError, idempotencyKeyOf, type OceanMessage, parseOceanMessage } from './messages.ts';
import type { RelayMetrics } from './relay-metrics.ts';
import { decideRetry, failureKind, failureReason, RelayError } from './schedule.ts';
import type { SekKeyring } from './sek-keyring.ts';

export interface DeliveryOptions {
  js: JetStreamClient;
  consumer: string;
  namespace: string;
  integration: string;
  siteNumber: string;
  keyring: SekKeyring;
  /** The EMR's adapter; undefined for an integration without an EMR (emr.type None, an eReferral endpoint only). */
  adapter?: EmrAdapter;
  /** Where referral bundles go (spec.eReferral.forward); undefined without an eReferral endpoint. */
  forwarder?: ReferralForwarder;
  /** How messages are filed (the integration's settings, filing.ts). */
  filing: FilingSettings;
  /** What a kiosk check-in does (Mark Arrived within N hours, Walk-in; check-in.ts); default the CRD's defaults. */
  checkIn?: CheckInSettings;
  clock: RelayClock;
  metrics: RelayMetrics;
  logger: Logger;
  concurrency?: number;
  /** The integration's id salt (api-key.ts): the key of the content hash in the EMR idempotency key. */
  idSalt: () => string;
  /**
   * The integration's delivery-record bucket (delivery-record.ts): each step recorded before and after
   * its post, a redelivered step skipped or looked up in the EMR first. Without it the EMR's own
   * idempotency is all there is (tests of the adapters' key handling only).
   */
  deliveryRecords?: KV;
  onDelivered?: () => void;
  onFailed?: (reason: string) => void;
  onDeadLettered?: () => void;
}

/** Real ms between two "still working" signals of a delivery in progress: under the smallest ack wait (5 s). */
const WORKING_INTERVAL_MS = 2000;

/** The exactly-once guard of one delivery of `msgs` (one message, or the forms of a sitting). */
function guardOf(o: DeliveryOptions, msgs: JsMsg[]): StepGuard | undefined {
  if (!o.deliveryRecords) return undefined;
  return createStepGuard({
    kv: o.deliveryRecords,
    adapter: o.adapter,
    deliveryCount: Math.max(...msgs.map((m) => m.info.deliveryCount)),
    replayed: msgs.some((m) => Boolean(m.headers?.get(FIRST_RECEIVED_AT_HEADER))),
    now: () => o.clock.now(),
    logger: o.logger,
    context: contextOf(o),
  });
}

async function decrypt(o: DeliveryOptions, msg: JsMsg, oceanId: string): Promise<OceanMessage> {
  const version = Number(msg.headers?.get(KEY_VERSION_HEADER));
  if (!Number.isSafeInteger(version) || version < 0) throw new RelayError('UndecryptableMessage', `no valid ${KEY_VERSION_HEADER} header`);
  let sek: string;
  try {
    sek = await o.keyring.version(version);
  } catch (error) {
    throw new RelayError('SekUnavailable', `cannot read SEK version ${version}: ${(error as Error).message}`);
  }
  try {
    const envelope = JSON.parse(Buffer.from(msg.data).toString('utf8')) as unknown;
    const batch = decryptBatch(envelope, sek, o.siteNumber, { batchId: oceanId, kind: RELAY_MESSAGE_KIND });
    return parseOceanMessage(batch.records[0]);
  } catch (error) {
    if (error instanceof InvalidMessageError) throw new RelayError('InvalidMessage', error.message);
    throw new RelayError('UndecryptableMessage', `the message does not decrypt with SEK version ${version}: ${(error as Error).message}`);
  }
}

const contextOf = (o: DeliveryOptions) => ({ namespace: o.namespace, integration: o.integration });

function succeeded(o: DeliveryOptions, msg: JsMsg, receivedAt: Date): void {
  msg.ack();
  o.metrics.delivered((o.clock.now().getTime() - receivedAt.getTime()) / 1000);
  o.onDelivered?.();
}

/** A failed attempt: nak with the schedule's delay, or dead-letter (held, for AttachmentsImportDisabled). */
async function failed(o: DeliveryOptions, msg: JsMsg, oceanId: string, receivedAt: Date, error: unknown): Promise<void> {
  const context = contextOf(o);
  const reason = failureReason(error);
  const now = o.clock.now();
  const retryAfterMs = error instanceof EmrError ? error.retryAfterMs : undefined;
  const decision = decideRetry({ receivedAt, now, failure: failureKind(reason), ...(retryAfterMs ? { retryAfterMs } : {}) });
  o.onFailed?.(reason);
  if (reason === 'InternalError')
    o.logger.error('delivery error', {
      ...context,
      messageId: oceanId,
      errorName: (error as Error).name,
      stack: (error as Error).stack?.split('\n').slice(1).join('\n'),
    });
  if (decision.action === 'retry') {
    o.metrics.attempt('retry');
    o.logger.debug('delivery failed; retrying', {
      ...context,
      messageId: oceanId,
      reason,
      attemptAt: decision.attemptAt.toISOString(),
      detail: (error as Error).message,
    });
    msg.nak(o.clock.realMs(decision.delayMs));
    return;
  }
  await deadLetter(o.js, msg, o.namespace, o.integration, reason, now);
  const held = reason === 'AttachmentsImportDisabled';
  o.metrics.attempt(held ? 'held' : 'dead_lettered');
  o.logger.warn(held ? 'message held: automatic import is off' : 'message dead-lettered', {
    ...context,
    messageId: oceanId,
    reason,
    receivedAt: receivedAt.toISOString(),
    detail: (error as Error).message,
  });
  o.onDeadLettered?.();
}

/** The EMR's adapter, or Unsupported (dead-lettered, replayable) for an integration without an EMR. */
function emrAdapterOf(o: DeliveryOptions): EmrAdapter {
  if (!o.adapter) throw new RelayError('Unsupported', 'this integration has no EMR (emr.type None)');
  return o.adapter;
}

/** Forwards a referral bundle once (recorded before and after its post; the target offers no lookup). */
async function forwardBundle(o: DeliveryOptions, message: OceanMessage, key: string, guard: StepGuard | undefined): Promise<void> {
  const { forwarder } = o;
  const bundle = message.bundle;
  if (!forwarder) throw new RelayError('Unsupported', 'this integration has no eReferral target (spec.eReferral.forward)');
  if (!bundle) throw new RelayError('InvalidMessage', 'the referral bundle is missing');
  const post = () => forwarder.forward(bundle, key);
  if (guard) await guard({ recordKey: key, part: '', key, kind: 'forward', patientId: '' }, post);
  else await post();
  o.metrics.forwarded();
}

/** One message: a referral bundle to its target, anything else into the EMR. */
async function deliverOne(o: DeliveryOptions, message: OceanMessage, key: string, msg: JsMsg): Promise<void> {
  const guard = guardOf(o, [msg]);
  if (message.type === 'referralBundle') return forwardBundle(o, message, key, guard);
  await deliverToEmr(emrAdapterOf(o), message, key, o.filing, o.checkIn, guard);
}

/** Files the forms of one sitting: each form's other records, then one progress note for all; acks them. */
async function fileSitting(o: DeliveryOptions, members: SittingMember[]): Promise<void> {
  const first = members[0];
  if (!first) return;
  const forms = members.map((m) => ({ title: m.message.note?.title ?? '', text: m.message.note?.text ?? '' }));
  try {
    const adapter = emrAdapterOf(o);
    const note = combinedNote(forms);
    const patientId = first.message.patient.emrId;
    const key = combinedKeyOf(members.map((m) => m.key));
    const post = () => adapter.postNote({ patientId, ...note, idempotencyKey: key });
    const guard = guardOf(
      o,
      members.map((m) => m.msg),
    );
    if (guard) await guard({ recordKey: key, part: '', key, kind: 'note', patientId }, post);
    else await post();
  } catch (error) {
    for (const m of members) await failed(o, m.msg, m.message.messageId, m.receivedAt, error);
    return;
  }
  for (const m of members) {
    try {
      const plan = planFiling(m.message, o.filing);
      await performSteps(
        emrAdapterOf(o),
        m.message.patient.emrId,
        plan.steps.filter((step) => step.kind !== 'note'),
        m.key,
        guardOf(o, [m.msg]),
      );
      if (plan.held.length > 0) throw heldError(m.message, plan.held.length);
      succeeded(o, m.msg, m.receivedAt);
    } catch (error) {
      await failed(o, m.msg, m.message.messageId, m.receivedAt, error);
    }
  }
}

async function handleMessage(o: DeliveryOptions, msg: JsMsg, combiner: SittingCombiner): Promise<void> {
  const oceanId = msg.headers?.get(OCEAN_MESSAGE_ID_HEADER) ?? '';
  const receivedText = msg.headers?.get(RECEIVED_AT_HEADER);
  const receivedAt = receivedText && !Number.isNaN(Date.parse(receivedText)) ? new Date(receivedText) : msg.time;
  try {
    if (!oceanId) throw new RelayError('InvalidMessage', `no ${OCEAN_MESSAGE_ID_HEADER} header`);
    const message = await decrypt(o, msg, oceanId);
    // Messages stored before content-scoped ids carry no hash header: their key stays the one they were first tried with.
    const contentHash = msg.headers?.get(CONTENT_HASH_HEADER) ? contentHashOf(message, o.idSalt()) : undefined;
    const key = idempotencyKeyOf(o.namespace, o.integration, oceanId, contentHash);
    const sitting = sittingOf(message, o.filing);
    if (sitting) {
      combiner.add(sitting, { msg, message, key, receivedAt });
      return;
    }
    // While this delivery lives it keeps the message: JetStream hands it to another delivery only once this relay is gone.
    const keepAlive = setInterval(() => {
      try {
        msg.working();
      } catch {
        // NATS away: the ack wait decides, as for a crash.
      }
    }, WORKING_INTERVAL_MS);
    try {
      await deliverOne(o, message, key, msg);
    } finally {
      clearInterval(keepAlive);
    }
    succeeded(o, msg, receivedAt);
  } catch (error) {
    await failed(o, msg, oceanId, receivedAt, error);
  }
}

/** Runs until `signal` aborts; survives NATS restarts (the consumer is durable, the loop re-attaches). */
export async function runDelivery(o: DeliveryOptions, signal: AbortSignal): Promise<void> {
  const concurrency = o.concurrency ?? 8;
  let inFlight = 0;
  let wake: (() => void) | undefined;
  const combiner = new SittingCombiner(o.clock, (members) =>
    fileSitting(o, members).catch((error: unknown) => {
      o.logger.warn('filing a sitting failed; its forms will be redelivered', { ...contextOf(o), error: (error as Error).message });
    }),
  );
  const slot = async () => {
    while (inFlight >= concurrency) await new Promise<void>((r) => (wake = r));
    inFlight++;
  };
  const release = () => {
    inFlight--;
    const w = wake;
    wake = undefined;
    w?.();
  };
  while (!signal.aborted) {
    try {
      const consumer = await o.js.consumers.get(relayQueueNames(o.namespace, o.integration).workStream, o.consumer);
      const messages = await consumer.consume({ max_messages: concurrency * 4 });
      const stop = () => void messages.stop();
      signal.addEventListener('abort', stop, { once: true });
      for await (const msg of messages) {
        await slot();
        void handleMessage(o, msg, combiner)
          .catch((error: unknown) => {
            // Could not even nak or dead-letter (NATS away): the ack wait hands the message out again.
            o.logger.warn('delivery bookkeeping failed; the message will be redelivered', {
              namespace: o.namespace,
              integration: o.integration,
              error: (error as Error).message,
            });
          })
          .finally(release);
        if (signal.aborted) break;
      }
      signal.removeEventListener('abort', stop);
    } catch (error) {
      if (signal.aborted) break;
      o.logger.warn('the consumer stopped; attaching again', {
        namespace: o.namespace,
        integration: o.integration,
        error: (error as Error).message,
      });
    }
    if (!signal.aborted) await new Promise((r) => setTimeout(r, 500));
  }
  combiner.stop();
  while (inFlight > 0) await new Promise<void>((r) => (wake = r));
}
