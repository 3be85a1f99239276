// Pure: what to do with one filing step of a message, from the relay's own delivery record (a KV
// value written before each EMR post and after its answer, delivery-record.ts) and what JetStream says
// of the message. Real Accuro and OSCAR ignore idempotency keys, so a message redelivered after a
// crash must not simply be posted again: a step the record calls done is skipped, a step that was
// being posted when the relay died is first looked up in the EMR (by the key the adapter wrote into
// the record), and a message with no record at all is looked up too when it was handed out before.

/** One step of a message as the delivery record keeps it. */
export type StepRecord = { state: 'posting'; at: string } | { state: 'done'; id: string; at: string };

/** The delivery record of one message (or one sitting's combined note): its steps by part ('' = the main record). */
export interface DeliveryRecord {
  v: 1;
  steps: Record<string, StepRecord>;
}

export type RedeliveryDecision = 'post' | 'lookup-then-post' | 'already-done';

export interface RedeliveryInput {
  /** The message's delivery record, undefined when the bucket holds none. */
  record: DeliveryRecord | undefined;
  /** The step's part (filing.ts). */
  part: string;
  /** JetStream's delivery count of the message: 1 the first time it is handed out. */
  deliveryCount: number;
  /** Moved back from the dead letters: its delivery count started again, its history did not. */
  replayed: boolean;
  /** The adapter can find a record by its key (findDocumentByKey / findNoteByKey). */
  canLookUp: boolean;
}

/**
 * - the record says the step is done: already done (the EMR's id is in the record);
 * - it says the step was being posted: the post may have reached the EMR; look it up first;
 * - the record exists without this step: steps run in order and each is marked before it is posted,
 *   so this one never was: post;
 * - no record: a first delivery posts; a redelivery or a replay (a record dropped by age or size, or
 *   a message from before delivery records) looks up first.
 * Without a lookup the only choice left is to post (the remaining window, README "Exactly once").
 */
export function decideRedelivery(input: RedeliveryInput): RedeliveryDecision {
  const step = input.record?.steps[input.part];
  if (step?.state === 'done') return 'already-done';
  let uncertain: boolean;
  if (step) uncertain = true;
  else if (input.record) uncertain = false;
  else uncertain = input.deliveryCount > 1 || input.replayed;
  return uncertain && input.canLookUp ? 'lookup-then-post' : 'post';
}

/** The record's value, or undefined when it is not one of ours (then treated as absent). */
export function parseDeliveryRecord(value: unknown): DeliveryRecord | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as { v?: unknown; steps?: unknown };
  if (v.v !== 1 || !v.steps || typeof v.steps !== 'object') return undefined;
  const steps: Record<string, StepRecord> = {};
  for (const [part, raw] of Object.entries(v.steps as Record<string, unknown>)) {
    const s = raw as { state?: unknown; id?: unknown; at?: unknown };
    const at = typeof s?.at === 'string' ? s.at : '';
    if (s?.state === 'done' && typeof s.id === 'string') steps[part] = { state: 'done', id: s.id, at };
    else if (s?.state === 'posting') steps[part] = { state: 'posting', at };
  }
  return { v: 1, steps };
}

/** The record with one step changed (a new object: the stored one is never mutated). */
export function withStep(record: DeliveryRecord | undefined, part: string, step: StepRecord): DeliveryRecord {
  return { v: 1, steps: { ...record?.steps, [part]: step } };
}
