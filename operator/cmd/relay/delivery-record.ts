// The relay's memory across crashes: one KV value per message (or per sitting's combined note) in the
// integration's own delivery-record bucket, keyed by the message's idempotency key. Before each EMR
// post the step is marked `posting`; after the EMR's answer it is `done` with the EMR's record id; both
// writes happen before the JetStream ack. On a redelivery the pure decideRedelivery (redelivery.ts)
// says, per step, whether to skip it, to look it up in the EMR first (findDocumentByKey /
// findNoteByKey / findAppointmentByKey, by the key the adapter wrote into the record) or to post it.
// Steps are filing steps (notes, documents) and a walk-in check-in's appointment create. Every write is a
// compare-and-set on the value's revision, so two deliveries of the same message (two relay pods
// during a rollout, an ack wait that ran out) never both believe they own a step.
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { AppointmentKeyQuery, EmrAdapter } from '../../internal/emr/adapter.ts';
import type { Logger } from '../../runtime/logger.ts';
import { type DeliveryRecord, decideRedelivery, parseDeliveryRecord, type StepRecord, withStep } from './redelivery.ts';
import { failureKind, failureReason, RelayError } from './schedule.ts';

/** What one filing step is, for the record and the lookup. */
export interface GuardedStep {
  /** The record's key: the message's idempotency key (or the combined note's). */
  recordKey: string;
  part: string;
  /** The step's own idempotency key (deliver.ts stepKeyOf), which the adapter wrote into the EMR's record. */
  key: string;
  /** `forward`: a referral bundle posted to the eReferral target, which offers no lookup. */
  kind: 'note' | 'document' | 'appointment' | 'forward';
  patientId: string;
  /** For an appointment (a walk-in): where the EMR can find it again (its provider and start). */
  appointment?: Pick<AppointmentKeyQuery, 'providerId' | 'start'>;
}

/** Performs one step exactly once: `post` runs only when the record and the EMR say it has not been filed; the EMR's id either way. */
export type StepGuard = (step: GuardedStep, post: () => Promise<{ id: string }>) => Promise<{ id: string }>;

export interface GuardOptions {
  kv: KV;
  /** Undefined for an integration without an EMR (an eReferral endpoint only). */
  adapter: EmrAdapter | undefined;
  /** JetStream's delivery count of the message (the highest of a sitting's forms). */
  deliveryCount: number;
  replayed: boolean;
  now: () => Date;
  logger: Logger;
  context: Record<string, string>;
}

const unavailable = (detail: string) => new RelayError('DeliveryRecordUnavailable', detail);

/** A create found a record: the handle assumed none without reading (a first delivery) and must read it now. */
class RecordExists extends Error {}

const isWrongLastSequence = (error: unknown) =>
  error instanceof JetStreamApiError &&
  (error.code === JetStreamApiCodes.StreamWrongLastSequence || error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);

/** One message's record as read, with the revision every write must follow. */
class RecordHandle {
  record: DeliveryRecord | undefined;
  revision = 0;
  /** Not read: assumed absent (a first delivery), which the first write, a create, verifies. */
  unread = false;
  private readonly kv: KV;
  readonly key: string;
  constructor(kv: KV, key: string) {
    this.kv = kv;
    this.key = key;
  }

  async load(): Promise<void> {
    let entry: Awaited<ReturnType<KV['get']>>;
    try {
      entry = await this.kv.get(this.key);
    } catch (error) {
      throw unavailable(`cannot read the delivery record: ${(error as Error).message}`);
    }
    this.unread = false;
    this.revision = entry?.revision ?? 0;
    let value: unknown;
    try {
      value = entry?.operation === 'PUT' ? entry.json() : undefined;
    } catch {
      value = undefined;
    }
    this.record = parseDeliveryRecord(value);
  }

  /** Compare-and-set: fails when someone else wrote the record since it was read. */
  async write(part: string, step: StepRecord): Promise<void> {
    const next = withStep(this.record, part, step);
    const data = JSON.stringify(next);
    try {
      this.revision = this.revision === 0 ? await this.kv.create(this.key, data) : await this.kv.update(this.key, data, this.revision);
    } catch (error) {
      if (this.unread && isWrongLastSequence(error)) throw new RecordExists();
      throw unavailable(`cannot write the delivery record (another delivery of this message, or NATS away): ${(error as Error).message}`);
    }
    this.unread = false;
    this.record = next;
  }

  /** `done` wins over anything written meanwhile: read again and retry a few times. */
  async writeDone(part: string, step: StepRecord): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.write(part, step);
        return;
      } catch (error) {
        if (attempt >= 2) throw error;
        await this.load();
      }
    }
  }
}

type LookupResult = { found: { id: string } } | { found: undefined } | { unavailable: string };

type Finder = () => Promise<{ id: string } | undefined>;

/** The adapter's lookup for the step's kind (by the key it wrote into the record), if it has one. */
export function finderOf(adapter: EmrAdapter | undefined, step: GuardedStep): Finder | undefined {
  // A forwarded eReferral bundle (and an integration without an EMR) has nothing to look up.
  if (!adapter || step.kind === 'forward') return undefined;
  const query = { patientId: step.patientId, idempotencyKey: step.key };
  if (step.kind === 'appointment') {
    const find = adapter.findAppointmentByKey;
    const where = step.appointment;
    return find && where ? () => find.call(adapter, { ...query, ...where }) : undefined;
  }
  const find = step.kind === 'note' ? adapter.findNoteByKey : adapter.findDocumentByKey;
  return find ? () => find.call(adapter, query) : undefined;
}

/** Asks the EMR for the step's record; a refusal of the lookup itself (4xx) means the EMR cannot search: post (the window). */
async function lookUp(o: GuardOptions, step: GuardedStep): Promise<LookupResult> {
  const find = finderOf(o.adapter, step);
  if (!find) return { unavailable: 'the adapter has no lookup' };
  try {
    return { found: await find() };
  } catch (error) {
    if (failureKind(failureReason(error)) !== 'permanent') throw error;
    return { unavailable: (error as Error).message };
  }
}

/**
 * A guard for one delivery of one message: records are read once per record key and kept for its
 * steps. A first delivery does not read: it almost never finds a record (only a message Ocean sent
 * again after JetStream's duplicate window, or another delivery of it racing this one), so its first
 * write is a create, and a create that finds a record reads it and decides again. That saves one NATS
 * round trip per message on the common path and changes no decision.
 */
export function createStepGuard(o: GuardOptions): StepGuard {
  const handles = new Map<string, RecordHandle>();
  const firstDelivery = o.deliveryCount <= 1 && !o.replayed;
  const handleOf = async (key: string) => {
    let h = handles.get(key);
    if (!h) {
      h = new RecordHandle(o.kv, key);
      if (firstDelivery) h.unread = true;
      else await h.load();
      handles.set(key, h);
    }
    return h;
  };
  return async (step, post) => {
    const h = await handleOf(step.recordKey);
    for (;;) {
      try {
        if ((await prepareStep(o, h, step)) === 'already-done') {
          const done = h.record?.steps[step.part];
          if (done?.state === 'done') return { id: done.id };
          throw unavailable('the delivery record says the step is done without its id');
        }
        break;
      } catch (error) {
        if (!(error instanceof RecordExists)) throw error;
        await h.load();
      }
    }
    const { id } = await post();
    await h.writeDone(step.part, { state: 'done', id, at: o.now().toISOString() });
    return { id };
  };
}

/** Decides the step from the record (decideRedelivery), looks it up in the EMR when uncertain, and marks it `posting`. */
async function prepareStep(o: GuardOptions, h: RecordHandle, step: GuardedStep): Promise<'already-done' | 'post'> {
  const key = step.key;
  const canLookUp = finderOf(o.adapter, step) !== undefined;
  const decision = decideRedelivery({
    record: h.record,
    part: step.part,
    deliveryCount: o.deliveryCount,
    replayed: o.replayed,
    canLookUp,
  });
  if (decision === 'already-done') return decision;
  const at = () => o.now().toISOString();
  if (decision === 'lookup-then-post') {
    const result = await lookUp(o, step);
    if ('unavailable' in result) {
      o.logger.warn('cannot look the step up in the EMR; posting it again', {
        ...o.context,
        key,
        kind: step.kind,
        detail: result.unavailable,
      });
    } else if (result.found) {
      o.logger.info('step found in the EMR after a redelivery; not posting it again', { ...o.context, key, kind: step.kind });
      await h.writeDone(step.part, { state: 'done', id: result.found.id, at: at() });
      return 'already-done';
    } else {
      o.logger.debug('step not in the EMR after a redelivery; posting it', { ...o.context, key, kind: step.kind });
    }
  }
  if (h.record?.steps[step.part]?.state !== 'posting') await h.write(step.part, { state: 'posting', at: at() });
  return 'post';
}
