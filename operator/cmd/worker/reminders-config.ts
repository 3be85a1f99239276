// CLOUDCONNECT_REMINDERS: the SyncSchedule's spec.reminders as JSON (the operator sets it on a
// Reminders run's Job), checked against the API's schema as the API server did; a bad value is
// InvalidConfiguration naming the field, never a guess.
import { Value } from '@sinclair/typebox/value';
import { RemindersSpec as RemindersSchema, type RemindersSpec } from '../../api/v1alpha1/index.ts';
import { WorkerError } from '../../internal/sitepod/pod-env.ts';

export const REMINDERS_ENV = 'CLOUDCONNECT_REMINDERS';

export function remindersFromEnv(env: NodeJS.ProcessEnv): RemindersSpec {
  const text = env[REMINDERS_ENV];
  if (!text) throw new WorkerError('InvalidConfiguration', `${REMINDERS_ENV} is required for --type Reminders`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new WorkerError('InvalidConfiguration', `${REMINDERS_ENV} is not JSON`);
  }
  const error = Value.Errors(RemindersSchema, raw).First();
  if (error) throw new WorkerError('InvalidConfiguration', `${REMINDERS_ENV}${error.path.replaceAll('/', '.')}: ${error.message}`);
  return raw as RemindersSpec;
}
