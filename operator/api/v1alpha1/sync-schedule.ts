// SyncSchedule: when the syncs of one integration run, with CronJob semantics (by default a full
// sync daily at midnight and appointments every 30 minutes; "Sync Full Schedule" runs one on demand).
import type { Static } from '@sinclair/typebox';
import { conditionsField, lastHandledRequestedAtField, observedGenerationField } from './conditions.ts';
import { timeZoneField } from './ocean-site.ts';
import { bool, int, list, localRef, obj, opt, str, stringEnum, timestamp } from './schema-helpers.ts';

const SYNC_TYPES = ['Full', 'Appointments', 'Reminders'] as const;
export type SyncType = (typeof SYNC_TYPES)[number];
const CONCURRENCY_POLICIES = ['Allow', 'Forbid', 'Replace'] as const;
const RUN_RESULTS = ['Succeeded', 'Failed'] as const;

/**
 * One cron field: `*`, `?`, numbers or 3-letter names, with ranges, steps and lists; or Jenkins'
 * hash `H` / `H(a-b)` (a value drawn from the schedule's namespace/name, stable across restarts), with a step.
 */
const CRON_ITEM = '(\\*|\\?|H(\\([0-9]{1,2}-[0-9]{1,2}\\))?|[0-9]{1,2}|[A-Za-z]{3})(-([0-9]{1,2}|[A-Za-z]{3}))?(/[0-9]{1,2})?';
const CRON_FIELD = `${CRON_ITEM}(,${CRON_ITEM})*`;
/** Five whitespace-separated cron fields (no seconds, no @-macros); ranges are checked by the operator. */
const FIVE_FIELD_CRON = `^\\s*${CRON_FIELD}(\\s+${CRON_FIELD}){4}\\s*$`;

const REMINDER_CHANNELS = ['SMS', 'Email'] as const;
export type ReminderChannel = (typeof REMINDER_CHANNELS)[number];
const WALL_TIME = '^([01][0-9]|2[0-3]):[0-5][0-9]$';

/** What a Reminders schedule sends: for which appointments, how long before, through which Ocean channel and template. */
export const RemindersSpec = obj(
  {
    offsets: list(
      str("How long before the appointment's start a reminder goes out, as a duration ('72h', '24h', '90m').", {
        pattern: '^([0-9]+(h|m))+$',
        maxLength: 16,
      }),
      'One reminder per offset and appointment (e.g. 72h and 24h). When several are due at once (the schedule was paused), only the one nearest the appointment is sent.',
      { minItems: 1, maxItems: 8, 'x-kubernetes-list-type': 'set' },
    ),
    providerIds: opt(
      list(
        str('EMR provider id.', { minLength: 1, maxLength: 64 }),
        'Remind only appointments of these providers; absent: every provider.',
        {
          maxItems: 500,
          'x-kubernetes-list-type': 'set',
        },
      ),
    ),
    channel: stringEnum(
      REMINDER_CHANNELS,
      "How Ocean reaches the patient: SMS (the EMR's phone number) or Email (the EMR's e-mail address).",
    ),
    templateId: str('The id of the message template in Ocean (Menu > Admin > Patient Messaging) that words the reminder.', {
      minLength: 1,
      maxLength: 64,
      pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
    }),
    quietHours: opt(
      obj(
        {
          start: str("Start of the quiet window, HH:MM in the site's time zone (e.g. '21:00').", { pattern: WALL_TIME }),
          end: str("End of the quiet window, HH:MM in the site's time zone (e.g. '08:00'; before start means it ends the next day).", {
            pattern: WALL_TIME,
          }),
        },
        "No reminder is sent in this window of the OceanSite's time zone (DST respected); one due in it is sent by the first run at or after its end.",
        { rules: [{ rule: 'self.start != self.end', message: 'spec.reminders.quietHours.start and end must differ' }] },
      ),
    ),
  },
  'Patient reminders (Reminders schedules only): sent through Ocean, once per appointment and offset.',
);

export const SyncScheduleSpec = obj(
  {
    integrationRef: opt(localRef('EmrIntegration whose syncs this schedules (exactly one of integrationRef and siteRef)')),
    siteRef: opt(
      localRef(
        'OceanSite without an integrated EMR whose reminders this schedules from the eReferral dates booked in Ocean (type Reminders only; exactly one of integrationRef and siteRef)',
      ),
    ),
    type: stringEnum(
      SYNC_TYPES,
      'Full syncs providers, patients and appointments; Appointments syncs the appointment window only; Reminders sends the patient reminders of spec.reminders.',
    ),
    reminders: opt(RemindersSpec),
    schedule: str(
      "When runs start, as a standard 5-field cron expression (minute hour day-of-month month day-of-week). 'H' in a field (Jenkins' hash: 'H/30 * * * *', 'H(0-29) 0 * * *') stands for a value drawn from the schedule's namespace and name: stable across restarts, different across schedules and so across a fleet's integrations, so a fleet's runs spread over the window instead of starting in the same second; status.resolvedSchedule shows the result.",
      {
        minLength: 9,
        maxLength: 128,
        rules: [
          {
            rule: `self.matches('${FIVE_FIELD_CRON.replaceAll('\\', '\\\\')}')`,
            message:
              "spec.schedule must be a 5-field cron expression such as '*/30 * * * *' or 'H/30 * * * *' (no seconds field, no @-macros)",
          },
        ],
      },
    ),
    timeZone: opt(timeZoneField('spec.timeZone', 'the schedule is read')),
    concurrencyPolicy: opt(
      stringEnum(CONCURRENCY_POLICIES, 'What to do when a run is due while another is active: Allow, Forbid (skip) or Replace.', {
        default: 'Forbid',
      }),
    ),
    startingDeadlineSeconds: opt(
      int('A run that could not start within this many seconds of its time is skipped (MissSchedule event).', {
        minimum: 0,
        maximum: 86400,
      }),
    ),
    successfulRunsHistoryLimit: opt(int('Finished successful runs to keep.', { default: 3, minimum: 0, maximum: 100 })),
    failedRunsHistoryLimit: opt(int('Failed runs to keep.', { default: 1, minimum: 0, maximum: 100 })),
    suspend: opt(bool('Start no new runs; active runs finish.', { default: false })),
  },
  'Desired schedule of one kind of sync for one integration.',
  {
    rules: [
      {
        rule: 'has(self.integrationRef) != has(self.siteRef)',
        message: 'spec.integrationRef or spec.siteRef is required, exactly one of them',
      },
      {
        rule: "!has(self.siteRef) || self.type == 'Reminders'",
        message: 'spec.siteRef is allowed only for type Reminders (a site without an integrated EMR has nothing to sync)',
      },
      {
        rule: "self.type == 'Reminders' ? has(self.reminders) : !has(self.reminders)",
        message: 'spec.reminders is required for type Reminders and allowed only there',
      },
      {
        // Two reminder runs at once could both look a reminder up, find nothing and both send it.
        rule: "self.type != 'Reminders' || !has(self.concurrencyPolicy) || self.concurrencyPolicy == 'Forbid'",
        message: 'spec.concurrencyPolicy must be Forbid for a Reminders schedule: two runs at once could send a reminder twice',
      },
    ],
  },
);

export const SyncRunResult = obj(
  {
    name: str('Name of the Job of the run.'),
    result: stringEnum(RUN_RESULTS, 'How the run ended.'),
    scheduledTime: opt(timestamp('The scheduled time the run belongs to.')),
    startTime: opt(timestamp('When the run started.')),
    completionTime: opt(timestamp('When the run ended.')),
    durationSeconds: opt(int('How long the run took.', { minimum: 0 })),
    providers: opt(int('Providers synced.', { minimum: 0 })),
    patients: opt(int('Patients synced.', { minimum: 0 })),
    appointments: opt(int('Appointments synced.', { minimum: 0 })),
    sent: opt(int('Reminders Ocean accepted for delivery in this run (Reminders).', { minimum: 0 })),
    skipped: opt(
      int('Reminders not sent in this run: no contact, opted out, cancelled, deferred by quiet hours (Reminders).', { minimum: 0 }),
    ),
    failed: opt(int('Reminders that could not be sent in this run (Reminders).', { minimum: 0 })),
    errorReason: opt(str('PascalCase reason of a failure, e.g. EmrUnreachable or Expired.', { maxLength: 128 })),
  },
  'Result of a sync run, as reported by the worker.',
);

export const SyncScheduleStatus = obj(
  {
    observedGeneration: opt(observedGenerationField()),
    conditions: opt(conditionsField()),
    lastHandledRequestedAt: opt(lastHandledRequestedAtField()),
    lastScheduleTime: opt(timestamp('The scheduled time of the last run started.')),
    resolvedSchedule: opt(
      str("spec.schedule with each 'H' replaced by the value drawn for this schedule (only when spec.schedule has one)."),
    ),
    nextScheduleTime: opt(timestamp('When the next run is due.')),
    lastSuccessfulTime: opt(timestamp('When the last successful run finished.')),
    active: opt(
      list(
        obj({ name: str('Name of the Job.'), scheduledTime: opt(timestamp('Scheduled time of the run.')) }, 'An active run.'),
        'Runs in progress.',
        { maxItems: 100 },
      ),
    ),
    lastRun: opt(SyncRunResult),
  },
  'Observed state of the schedule.',
);

export type SyncScheduleSpec = Static<typeof SyncScheduleSpec>;
export type SyncScheduleStatus = Static<typeof SyncScheduleStatus>;
export type SyncRunResult = Static<typeof SyncRunResult>;
export type RemindersSpec = Static<typeof RemindersSpec>;

/** What a schedule runs for: its EmrIntegration or, for reminders of a site without an integrated EMR, its OceanSite. */
export function scheduleTarget(spec: Pick<SyncScheduleSpec, 'integrationRef' | 'siteRef'>): {
  kind: 'EmrIntegration' | 'OceanSite';
  name: string;
} {
  if (spec.siteRef) return { kind: 'OceanSite', name: spec.siteRef.name };
  return { kind: 'EmrIntegration', name: spec.integrationRef?.name ?? '' };
}
