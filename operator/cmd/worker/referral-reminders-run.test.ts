// Reminders of a site without an integrated EMR through the worker's real entry point (runWorker
// --site … --type Reminders: the pod's environment, the site's Ocean Secret as files) against the
// Ocean simulator over https: the booked eReferral dates are listed from Ocean, each contact is a
// SEK envelope that the worker opens only for a reminder that is due. Clocks are injected.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeTestTls, type TestTls } from '../../../test/integration/tls.ts';
import { LOOPBACK_ALLOW_CIDRS } from '../../../test/simulators/egress.ts';
import { type OceanSimulator, start as startOcean } from '../../../test/simulators/ocean.ts';
import type { ReferralBookingStatus } from '../../../test/simulators/ocean-referral-bookings.ts';
import { SekEncryptor } from '../../internal/sek/crypto.ts';
import { runWorker } from './cli.ts';
import { referralContactBatch } from './referral-appointments.ts';
import { reminderKey } from './reminder-due.ts';
import { quietDeps } from './test-helpers.ts';

const SITE = '7171';
const SEK = 'referral-site-sek-0123456789abcdef';
const NOW = '2030-05-05T16:00:00.000Z';
const H = 3_600_000;
const at = (hours: number) => new Date(Date.parse(NOW) + hours * H).toISOString();
const REMINDERS = { offsets: ['24h'], channel: 'SMS', templateId: 'appointment-reminder' };

let tls: TestTls;
let ocean: OceanSimulator;
let dir: string;

beforeAll(async () => {
  tls = makeTestTls();
  ocean = await startOcean({ seed: 71, tls: { cert: tls.cert, key: tls.key } });
  dir = await mkdtemp(join(tmpdir(), 'cc-referral-run-'));
  await mkdir(join(dir, 'ocean'));
  await writeFile(join(dir, 'ocean', 'clientId'), ocean.credentials.clientId);
  await writeFile(join(dir, 'ocean', 'clientSecret'), ocean.credentials.clientSecret);
});
afterAll(async () => {
  await ocean.stop();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  ocean.reminders.delivered.length = 0;
  ocean.referralBookings.clear(SITE);
});

/** Books a referral whose contact Ocean holds sealed with `sek` (the site's, unless a test says otherwise). */
function book(referralId: string, hours: number, contact: object, status: ReferralBookingStatus = 'booked', sek = SEK) {
  const envelope = new SekEncryptor(sek, SITE).encryptBatch({ batchId: referralContactBatch(referralId), kind: 'patient' }, [contact]);
  ocean.referralBookings.book(SITE, { referralId, appointmentStart: at(hours), status, contact: { ...envelope } });
}

async function remind(now = NOW) {
  let sekReads = 0;
  const env: NodeJS.ProcessEnv = {
    CLOUDCONNECT_SITE_NUMBER: SITE,
    CLOUDCONNECT_SITE_TIME_ZONE: 'America/Toronto',
    CLOUDCONNECT_OCEAN_CREDENTIALS_DIR: join(dir, 'ocean'),
    CLOUDCONNECT_REMINDERS: JSON.stringify(REMINDERS),
    OCEAN_CA_BUNDLE: tls.ca,
    OCEAN_API_URL: ocean.url,
    VAULT_ADDR: 'https://127.0.0.1:1',
    VAULT_ROLE: 'cloudconnect-sync',
    SEK_MOUNT: 'secret',
    SEK_PATH: 'cloudconnect/clinic/oak/sek',
    TERMINATION_MESSAGE_PATH: join(dir, 'termination-log'),
    EGRESS_ALLOW_CIDRS: LOOPBACK_ALLOW_CIDRS,
  };
  const deps = {
    ...quietDeps(now, SEK),
    sekSource: async () => {
      sekReads++;
      return SEK;
    },
  };
  const { exitCode, result } = await runWorker(['--site', 'clinic/oak', '--type', 'Reminders', '--run', 'rem-1'], env, deps);
  const termination = await readFile(join(dir, 'termination-log'), 'utf8');
  return { exitCode, result, termination, sekReads: () => sekReads };
}

const keyOf = (referralId: string, hours: number) => reminderKey(SITE, { id: referralId, start: at(hours) }, 24 * H);

describe("a Reminders run of a site without an integrated EMR (Ocean's booked referral dates)", () => {
  it('sends once per booked referral and offset, none for a cancelled one, skips one without a phone, and a re-run sends nothing', async () => {
    book('ref-a', 5, { phone: '+1 416 555 0101' });
    book('ref-b', 6, { email: 'b@example.org' });
    book('ref-c', 7, { phone: '+1 416 555 0103' }, 'cancelled');
    const first = await remind();
    expect(first.result).toMatchObject({ result: 'Succeeded', type: 'Reminders', sent: 1, skipped: 1, failed: 0, site: 'clinic/oak' });
    expect(first.result?.skippedReasons).toEqual({ NoContact: 1 });
    expect(ocean.reminders.delivered.map((d) => [d.reminderKey, d.recipient])).toEqual([[keyOf('ref-a', 5), { phone: '+1 416 555 0101' }]]);
    // The contact went to Ocean's delivery only: not in the result the operator reads.
    expect(first.termination).not.toContain('555');
    expect(first.termination).not.toContain('example.org');

    const again = await remind();
    expect(again.result).toMatchObject({ result: 'Succeeded', sent: 0, failed: 0, alreadySent: 1 });
    expect(ocean.reminders.delivered).toHaveLength(1);
  });

  it('sends a rescheduled referral the reminder of its new date only', async () => {
    book('ref-r', 30, { phone: '+1 416 555 0201' });
    ocean.referralBookings.reschedule(SITE, 'ref-r', at(8));
    const run = await remind();
    expect(run.result).toMatchObject({ sent: 1 });
    expect(ocean.reminders.delivered.map((d) => d.reminderKey)).toEqual([keyOf('ref-r', 8)]);
  });

  it('reads no key and decrypts nothing when no reminder is due, even a contact it could not open', async () => {
    book('ref-gone', 5, { phone: '+1 416 555 0302' }, 'cancelled');
    book('ref-far', 48, { phone: '+1 416 555 0301' }, 'booked', 'another-sites-key-0000000000000000');
    const run = await remind();
    expect(run.result).toMatchObject({ result: 'Succeeded', sent: 0, skipped: 0, failed: 0 });
    expect(run.sekReads()).toBe(0);
  });

  it('fails the one reminder whose contact does not open with the site key, without a byte of it, and sends the others', async () => {
    book('ref-bad', 3, { phone: '+1 416 555 0401' }, 'booked', 'another-sites-key-0000000000000000');
    book('ref-good', 4, { phone: '+1 416 555 0402' });
    const run = await remind();
    expect(run.result).toMatchObject({ result: 'Failed', sent: 1, failed: 1, errorReason: 'ContactUndecryptable' });
    expect(run.sekReads()).toBe(1);
    expect(run.termination).not.toContain('0401');
    expect(ocean.reminders.delivered.map((d) => d.reminderKey)).toEqual([keyOf('ref-good', 4)]);
  });
});
