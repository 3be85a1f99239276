// CLOUDCONNECT_REMINDERS: the SyncSchedule's spec.reminders as JSON (the operator sets it on a
// Reminders run's Job), checked again with the API's rules (the API server checked it at admission;
// the worker does not trust its environment to be that one): a bad value is InvalidConfiguration
// naming the field, never a guess.
import type { RemindersSpec } from '../../api/v1alpha1/index.ts';
import { WorkerError } from '../../internal/sitepod/pod-env.ts';

const REMINDERS_ENV = 'CLOUDCONNECT_REMINDERS';

const OFFSET = /^([0-9]+(h|m))+$/;
const TEMPLATE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const WALL_TIME = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;
const FIELDS = ['offsets', 'providerIds', 'channel', 'templateId', 'quietHours'];

const isStringList = (v: unknown, max: number): v is string[] =>
  Array.isArray(v) && v.length <= max && v.every((s) => typeof s === 'string' && s.length > 0 && s.length <= 64);

/** What is wrong with the block (the field, never a value), or undefined. */
function problemOf(r: Record<string, unknown>): string | undefined {
  const unknown = Object.keys(r).filter((k) => !FIELDS.includes(k));
  if (unknown.length > 0) return `unknown field(s) ${unknown.join(', ')}`;
  const offsets = r['offsets'];
  if (!isStringList(offsets, 8) || offsets.length === 0 || !offsets.every((o) => OFFSET.test(o) && o !== '0h' && o !== '0m'))
    return "offsets must be 1 to 8 durations such as '72h' or '90m'";
  if (r['providerIds'] !== undefined && !isStringList(r['providerIds'], 500)) return 'providerIds must be a list of provider ids';
  if (r['channel'] !== 'SMS' && r['channel'] !== 'Email') return 'channel must be SMS or Email';
  if (typeof r['templateId'] !== 'string' || !TEMPLATE.test(r['templateId'])) return 'templateId must be an Ocean template id';
  const quiet = r['quietHours'] as Record<string, unknown> | undefined;
  if (
    quiet !== undefined &&
    (typeof quiet !== 'object' || quiet === null || !WALL_TIME.test(String(quiet['start'])) || !WALL_TIME.test(String(quiet['end'])))
  )
    return 'quietHours.start and quietHours.end must be HH:MM';
  return undefined;
}

export function remindersFromEnv(env: NodeJS.ProcessEnv): RemindersSpec {
  const text = env[REMINDERS_ENV];
  if (!text) throw new WorkerError('InvalidConfiguration', `${REMINDERS_ENV} is required for --type Reminders`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new WorkerError('InvalidConfiguration', `${REMINDERS_ENV} is not JSON`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new WorkerError('InvalidConfiguration', `${REMINDERS_ENV} is not an object`);
  const problem = problemOf(raw as Record<string, unknown>);
  if (problem) throw new WorkerError('InvalidConfiguration', `${REMINDERS_ENV}: ${problem}`);
  return raw as RemindersSpec;
}
