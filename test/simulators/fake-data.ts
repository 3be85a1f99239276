// Deterministic, lazily generated fake clinic data. Every record is a pure function of
// (seed, kind, index): nothing is generated up front, so 20,000 patients or 15,000 appointments
// cost nothing until asked for, and the same seed always gives the same clinic.
// Names are clearly synthetic (every last name ends in "-Sim"); phone numbers use the fictional
// 555-01xx range, e-mail addresses the reserved .invalid domain.
// The clinic works 07:00-17:00 on the wall clock of its time zone (default America/Toronto), so a
// day's appointments are that zone's day, and a DST day moves them by an hour in UTC.
import { DEFAULT_SIM_TIME_ZONE, localYmd, nextDays, zonedInstant } from './local-time.ts';

export interface Volume {
  providers: number;
  patients: number;
  appointmentsPerDay: number;
  days: number;
  /** First day with appointments, YYYY-MM-DD in the clinic's time zone. Defaults to today there. */
  startDate: string;
}

const DEFAULT_VOLUME: Omit<Volume, 'startDate'> = { providers: 5, patients: 200, appointmentsPerDay: 40, days: 3 };

export type FakeStatus = 'booked' | 'arrived' | 'fulfilled' | 'cancelled' | 'noshow';

export interface FakeProvider {
  index: number;
  firstName: string;
  lastName: string;
  specialty: string;
  officeIndex: number;
  licenseNumber: string;
}

export interface FakePatient {
  index: number;
  firstName: string;
  lastName: string;
  birthDate: string;
  sex: 'F' | 'M' | 'X';
  healthNumber: string;
  email: string;
  phone: string;
  address: { street: string; city: string; province: string; postalCode: string };
  providerIndex: number;
}

export interface FakeAppointment {
  /** Global index; appointments are ordered by start time, so the index is also a cursor. */
  index: number;
  dayIndex: number;
  providerIndex: number;
  patientIndex: number;
  start: Date;
  end: Date;
  durationMinutes: number;
  status: FakeStatus;
}

const FIRST = [
  'Ada',
  'Bram',
  'Cleo',
  'Dev',
  'Esme',
  'Finn',
  'Gita',
  'Hugo',
  'Iris',
  'Jonah',
  'Kira',
  'Liam',
  'Mina',
  'Noor',
  'Otto',
  'Pia',
  'Quinn',
  'Ravi',
  'Sana',
  'Theo',
  'Uma',
  'Vik',
  'Wren',
  'Xavi',
  'Yara',
  'Zeke',
];
const LAST = [
  'Maple',
  'Birch',
  'Cedar',
  'Heron',
  'Lynx',
  'Otter',
  'Aspen',
  'Willow',
  'Falcon',
  'Spruce',
  'Beaver',
  'Loon',
  'Tamarack',
  'Moose',
  'Juniper',
  'Raven',
  'Sumac',
  'Trillium',
];
const SPECIALTIES = ['Family Medicine', 'Pediatrics', 'Internal Medicine', 'Nurse Practitioner', 'Psychiatry'];
const CITIES = ['Testville', 'Sampleton', 'Mockford', 'Fakeham'];
const DAY_MS = 86_400_000;
const FIRST_SLOT_MINUTES = 7 * 60;
const DAY_WINDOW_MINUTES = 10 * 60;

/** 49 % F, 49 % M, 2 % X. */
function sexOfRoll(roll: number): FakePatient['sex'] {
  if (roll < 0.49) return 'F';
  if (roll < 0.98) return 'M';
  return 'X';
}

/** 6 % cancelled, 3 % no-show, 16 % arrived, 15 % fulfilled, the rest booked. */
function appointmentStatusOfRoll(roll: number): FakeStatus {
  if (roll < 0.06) return 'cancelled';
  if (roll < 0.09) return 'noshow';
  if (roll < 0.25) return 'arrived';
  if (roll < 0.4) return 'fulfilled';
  return 'booked';
}

/** A 32-bit integer mixer (lowbias32); good enough to make independent-looking streams. */
function mix(x: number): number {
  let a = x >>> 0;
  a ^= a >>> 16;
  a = Math.imul(a, 0x7feb352d);
  a ^= a >>> 15;
  a = Math.imul(a, 0x846ca68b);
  a ^= a >>> 16;
  return a >>> 0;
}

export class FakeData {
  readonly seed: number;
  readonly volume: Volume;
  readonly slotMinutes: number;
  /** The clinic's IANA time zone: its days and its 07:00 are this zone's. */
  readonly timeZone: string;
  /** Each day's first slot (07:00 local), as epoch ms. */
  private readonly dayStartMs: number[];

  constructor(seed = 1, volume: Partial<Volume> = {}, timeZone = DEFAULT_SIM_TIME_ZONE) {
    this.seed = seed;
    this.timeZone = timeZone;
    this.volume = {
      ...DEFAULT_VOLUME,
      startDate: localYmd(new Date(), timeZone),
      ...Object.fromEntries(Object.entries(volume).filter(([, v]) => v !== undefined)),
    };
    for (const key of ['providers', 'patients', 'appointmentsPerDay', 'days'] as const) {
      const v = this.volume[key];
      if (!Number.isInteger(v) || v < (key === 'providers' || key === 'patients' ? 1 : 0))
        throw new Error(`volume.${key} must be a whole number`);
    }
    if (!/^\d{4}-\d{2}-\d{2}$/.test(this.volume.startDate) || Number.isNaN(Date.parse(`${this.volume.startDate}T00:00:00Z`)))
      throw new Error('volume.startDate must be YYYY-MM-DD');
    const startDate = this.volume.startDate;
    this.dayStartMs = Array.from({ length: this.volume.days }, (_, d) =>
      zonedInstant(nextDays(startDate, d), FIRST_SLOT_MINUTES, timeZone).getTime(),
    );
    const perProvider = Math.max(1, Math.ceil(this.volume.appointmentsPerDay / this.volume.providers));
    // One-minute slots from 07:00 must end before the next day's first slot (a DST day has 23 hours), or order breaks.
    if (perProvider > 1380) throw new Error('volume.appointmentsPerDay allows at most 1380 appointments per provider per day');
    this.slotMinutes = Math.max(1, Math.min(30, Math.floor(DAY_WINDOW_MINUTES / perProvider)));
  }

  /** Uniform in [0, 1) for (stream, index). */
  random(stream: number, index: number): number {
    return mix(mix(mix(this.seed) ^ Math.imul(stream, 0x9e3779b1)) ^ index) / 4294967296;
  }

  private pick<T>(list: readonly T[], stream: number, index: number): T {
    return list[Math.floor(this.random(stream, index) * list.length)] as T;
  }

  get providerCount(): number {
    return this.volume.providers;
  }

  get patientCount(): number {
    return this.volume.patients;
  }

  get appointmentCount(): number {
    return this.volume.days * this.volume.appointmentsPerDay;
  }

  get officeCount(): number {
    return Math.max(1, Math.ceil(this.volume.providers / 10));
  }

  provider(index: number): FakeProvider {
    return {
      index,
      firstName: this.pick(FIRST, 1, index),
      lastName: `${this.pick(LAST, 2, index)}-Sim`,
      specialty: this.pick(SPECIALTIES, 3, index),
      officeIndex: index % this.officeCount,
      licenseNumber: String(10000 + ((index * 7919 + this.seed) % 89999)),
    };
  }

  patient(index: number): FakePatient {
    const birth = new Date(Date.UTC(1930, 0, 1) + Math.floor(this.random(11, index) * 93 * 365.25) * DAY_MS);
    const sexRoll = this.random(12, index);
    return {
      index,
      firstName: this.pick(FIRST, 13, index),
      lastName: `${this.pick(LAST, 14, index)}-Sim`,
      birthDate: birth.toISOString().slice(0, 10),
      sex: sexOfRoll(sexRoll),
      healthNumber: `9${String(Math.floor(this.random(15, index) * 1e9)).padStart(9, '0')}`,
      email: `patient${index + 1}@example.invalid`,
      phone: `613-555-01${String(Math.floor(this.random(16, index) * 100)).padStart(2, '0')}`,
      address: {
        street: `${1 + Math.floor(this.random(17, index) * 999)} Synthetic Street`,
        city: this.pick(CITIES, 18, index),
        province: 'ON',
        postalCode: 'K0K 0K0',
      },
      providerIndex: Math.floor(this.random(19, index) * this.volume.providers),
    };
  }

  /** Start time of appointment `index` without generating the rest (for binary searches). */
  startMsOf(index: number): number {
    const perDay = this.volume.appointmentsPerDay;
    const dayIndex = Math.floor(index / perDay);
    const k = index % perDay;
    const slot = Math.floor(k / this.volume.providers);
    return (this.dayStartMs[dayIndex] ?? Number.POSITIVE_INFINITY) + slot * this.slotMinutes * 60_000;
  }

  providerIndexOf(appointmentIndex: number): number {
    return (appointmentIndex % this.volume.appointmentsPerDay) % this.volume.providers;
  }

  appointment(index: number): FakeAppointment {
    const perDay = this.volume.appointmentsPerDay;
    const start = this.startMsOf(index);
    const roll = this.random(21, index);
    return {
      index,
      dayIndex: Math.floor(index / perDay),
      providerIndex: this.providerIndexOf(index),
      patientIndex: Math.floor(this.random(22, index) * this.volume.patients),
      start: new Date(start),
      end: new Date(start + this.slotMinutes * 60_000),
      durationMinutes: this.slotMinutes,
      status: appointmentStatusOfRoll(roll),
    };
  }

  /** First appointment index whose start is at or after `at`. */
  lowerBound(at: Date): number {
    let lo = 0;
    let hi = this.appointmentCount;
    const t = at.getTime();
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.startMsOf(mid) < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Appointment indexes with start in [from, to), as a half-open index range. */
  range(from: Date, to: Date): { first: number; end: number } {
    const first = this.lowerBound(from);
    return { first, end: Math.max(first, this.lowerBound(to)) };
  }
}
