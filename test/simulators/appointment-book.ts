// The simulators' appointment book: what the schedule holds beyond the generated fake data, and every
// change an API call made to it, recorded faithfully for tests to assert (check-in and walk-ins):
//   - appointments added to the schedule, by a test (`add`, origin 'seed') or through the EMR's API
//     (origin 'api': provider, appointment type, start, duration, the external reference/notes the
//     client stored in it, the Idempotency-Key it sent);
//   - the status of every appointment, generated or added, and each status change (`changes`).
// Indexes: the generated appointments are 0 … count-1 (fake-data.ts), added ones follow in the order
// they were added, so an index stays a cursor ("id > startingId" lists what was added later too, as
// Accuro's lastId does). Each simulator formats an index as its own appointment id.
import type { FakeAppointment, FakeData, FakeStatus } from './fake-data.ts';

export interface BookedAppointment extends FakeAppointment {
  /** The EMR's appointment type (name or code), when the appointment has one. */
  appointmentType: string | undefined;
  /** What the client stored in the appointment's external-reference or notes field. */
  externalRef: string | undefined;
  /** The Idempotency-Key (or conditional-create identifier) the appointment was created with. */
  idempotencyKey: string | undefined;
  origin: 'generated' | 'seed' | 'api';
}

export interface StatusChange {
  index: number;
  from: FakeStatus;
  to: FakeStatus;
  /** The Idempotency-Key the change was requested with, if any. */
  idempotencyKey: string | undefined;
  at: string;
}

export interface NewAppointment {
  patientIndex: number;
  providerIndex: number;
  start: Date;
  durationMinutes: number;
  appointmentType?: string | undefined;
  externalRef?: string | undefined;
  idempotencyKey?: string | undefined;
  status?: FakeStatus;
}

export class AppointmentBook {
  private readonly data: FakeData;
  private readonly now: () => Date;
  private readonly added: BookedAppointment[] = [];
  private readonly statuses = new Map<number, FakeStatus>();
  /** Every status change made through the API, in order. */
  readonly changes: StatusChange[] = [];
  /** Creates answered with the appointment an earlier create made under the same Idempotency-Key. */
  readonly replays: { idempotencyKey: string; index: number; at: string }[] = [];
  /** Creates that repeated an earlier create's Idempotency-Key and made another appointment (the key ignored: strict). */
  readonly ignoredRepeats: { idempotencyKey: string; index: number; at: string }[] = [];
  /** Bumped on every change: lets a simulator that caches lists drop stale ones. */
  version = 0;

  /** Whether a create's Idempotency-Key is honoured (the simulator's `honorIdempotencyKey` switch: off, strict, by default). */
  private readonly honorKey: () => boolean;

  constructor(data: FakeData, now: () => Date, honorKey: () => boolean = () => true) {
    this.data = data;
    this.now = now;
    this.honorKey = honorKey;
  }

  /** Generated and added appointments. */
  get count(): number {
    return this.data.appointmentCount + this.added.length;
  }

  has(index: number): boolean {
    return Number.isInteger(index) && index >= 0 && index < this.count;
  }

  /** The appointment at `index` as the EMR holds it now (status changes applied). */
  get(index: number): BookedAppointment {
    const generated = this.data.appointmentCount;
    const base: BookedAppointment =
      index < generated
        ? {
            ...this.data.appointment(index),
            appointmentType: undefined,
            externalRef: undefined,
            idempotencyKey: undefined,
            origin: 'generated',
          }
        : { ...(this.added[index - generated] as BookedAppointment) };
    const status = this.statuses.get(index);
    return status ? { ...base, status } : base;
  }

  /** Added appointments (index order) with start in [from, to), at or after `startIndex`. */
  addedIn(from: Date, to: Date, startIndex = 0): number[] {
    const out: number[] = [];
    for (const a of this.added) {
      if (a.index >= startIndex && a.start.getTime() >= from.getTime() && a.start.getTime() < to.getTime()) out.push(a.index);
    }
    return out;
  }

  /** Puts an appointment in the schedule (a test seeding it, or the EMR's create call). */
  add(input: NewAppointment, origin: 'seed' | 'api' = 'seed'): BookedAppointment {
    const index = this.count;
    const start = new Date(input.start.getTime());
    const appointment: BookedAppointment = {
      index,
      dayIndex: -1,
      providerIndex: input.providerIndex,
      patientIndex: input.patientIndex,
      start,
      end: new Date(start.getTime() + input.durationMinutes * 60_000),
      durationMinutes: input.durationMinutes,
      status: input.status ?? 'booked',
      appointmentType: input.appointmentType,
      externalRef: input.externalRef,
      idempotencyKey: input.idempotencyKey,
      origin,
    };
    this.added.push(appointment);
    this.version++;
    return { ...appointment };
  }

  /**
   * The appointment an earlier create made with this Idempotency-Key, if any, when the key is honoured
   * (leniency): a create answers with it (recorded in `replays`). Strict (the default, as real Accuro and
   * OSCAR): undefined, the create makes another appointment, and the repeat is recorded in `ignoredRepeats`.
   */
  replayOf(idempotencyKey: string): BookedAppointment | undefined {
    const found = this.added.find((a) => a.origin === 'api' && a.idempotencyKey === idempotencyKey);
    if (!found) return undefined;
    if (!this.honorKey()) {
      this.ignoredRepeats.push({ idempotencyKey, index: found.index, at: this.now().toISOString() });
      return undefined;
    }
    this.replays.push({ idempotencyKey, index: found.index, at: this.now().toISOString() });
    return this.get(found.index);
  }

  /** Appointments whose external reference contains `text` (an EMR search on that field). */
  findByExternalRef(text: string): BookedAppointment[] {
    return this.added.filter((a) => a.externalRef?.includes(text)).map((a) => this.get(a.index));
  }

  /** Sets the status of appointment `index`, recording the change (also a change to the same status). */
  setStatus(index: number, to: FakeStatus, idempotencyKey?: string): BookedAppointment {
    const from = this.get(index).status;
    this.statuses.set(index, to);
    this.changes.push({ index, from, to, idempotencyKey, at: this.now().toISOString() });
    this.version++;
    return this.get(index);
  }

  /** Every appointment of the patient (generated and added), as the EMR holds them now. */
  ofPatient(patientIndex: number): BookedAppointment[] {
    const out: BookedAppointment[] = [];
    for (let i = 0; i < this.count; i++) if (this.patientIndexOf(i) === patientIndex) out.push(this.get(i));
    return out;
  }

  /** Appointments created through the API (walk-ins). */
  created(): BookedAppointment[] {
    return this.added.filter((a) => a.origin === 'api').map((a) => this.get(a.index));
  }

  private patientIndexOf(index: number): number {
    return index < this.data.appointmentCount
      ? this.data.appointment(index).patientIndex
      : (this.added[index - this.data.appointmentCount]?.patientIndex ?? -1);
  }
}
