import { describe, expect, it } from 'vitest';
import type { SyncScheduleSpec } from '../../api/v1alpha1/index.ts';
import { manualRunName, runName } from '../../internal/sitepod/sync-run.ts';
import { decideRun, type RunInput } from './runs.ts';
import { parseSchedule } from './schedule.ts';

const every30 = parseSchedule('*/30 * * * *', 'UTC');
if (!every30.ok) throw new Error('schedule');
const spec: SyncScheduleSpec = {
  integrationRef: { name: 'i' },
  type: 'Appointments',
  schedule: '*/30 * * * *',
  concurrencyPolicy: 'Forbid',
};

function input(over: Partial<Omit<RunInput, 'now'>> & { now: string }): RunInput {
  const { now, ...rest } = over;
  return {
    scheduleName: 's',
    spec,
    next: every30.ok ? every30.next : () => new Date(),
    createdAt: new Date('2026-11-23T09:05:00Z'),
    active: [],
    existing: new Set(),
    integrationReady: true,
    ...rest,
    now: new Date(now),
  };
}

const at = (iso: string) => new Date(iso);

describe('decideRun', () => {
  it.each([
    [
      'starts nothing before the first scheduled time',
      input({ now: '2026-11-23T09:20:00Z' }),
      { start: undefined, next: '2026-11-23T09:30:00.000Z' },
    ],
    [
      'starts the run of the scheduled minute once it is due',
      input({ now: '2026-11-23T09:30:05Z' }),
      { start: runName('s', at('2026-11-23T09:30:00Z')), next: '2026-11-23T10:00:00.000Z' },
    ],
    [
      'starts only the latest of several missed runs',
      input({ now: '2026-11-23T11:10:00Z', lastScheduleTime: at('2026-11-23T09:30:00Z') }),
      { start: runName('s', at('2026-11-23T11:00:00Z')), last: '2026-11-23T11:00:00.000Z' },
    ],
    [
      'never starts a run whose Job already exists (operator restarted)',
      input({ now: '2026-11-23T09:31:00Z', existing: new Set([runName('s', at('2026-11-23T09:30:00Z'))]) }),
      { start: undefined, last: '2026-11-23T09:30:00.000Z' },
    ],
    [
      'skips a run that is too late for its starting deadline',
      input({ now: '2026-11-23T09:40:00Z', spec: { ...spec, startingDeadlineSeconds: 120 } }),
      { start: undefined, skipped: 'MissSchedule', last: '2026-11-23T09:30:00.000Z' },
    ],
    [
      'skips a due run while another is active under Forbid',
      input({ now: '2026-11-23T09:30:05Z', active: [{ name: 'old' }] }),
      { start: undefined, skipped: 'JobAlreadyActive' },
    ],
    [
      'replaces the active run under Replace',
      input({ now: '2026-11-23T09:30:05Z', active: [{ name: 'old' }], spec: { ...spec, concurrencyPolicy: 'Replace' } }),
      { start: runName('s', at('2026-11-23T09:30:00Z')), replace: ['old'] },
    ],
    [
      'runs beside the active run under Allow',
      input({ now: '2026-11-23T09:30:05Z', active: [{ name: 'old' }], spec: { ...spec, concurrencyPolicy: 'Allow' } }),
      { start: runName('s', at('2026-11-23T09:30:00Z')), replace: [] },
    ],
    [
      'starts nothing while the integration is not authenticated',
      input({ now: '2026-11-23T09:30:05Z', integrationReady: false }),
      { start: undefined, skipped: 'IntegrationNotReady', last: undefined },
    ],
    [
      'starts nothing while suspended',
      input({ now: '2026-11-23T09:30:05Z', spec: { ...spec, suspend: true } }),
      { start: undefined, skipped: 'Suspended' },
    ],
    [
      'starts a run now for a new requestedAt token and marks it handled',
      input({ now: '2026-11-23T09:20:00Z', requestedAt: 'click-1' }),
      { start: manualRunName('s', 'click-1'), handled: 'click-1' },
    ],
    [
      'does not start a second run for a token already handled',
      input({ now: '2026-11-23T09:20:00Z', requestedAt: 'click-1', lastHandledRequestedAt: 'click-1' }),
      { start: undefined },
    ],
  ] as const)('%s', (_n, given, expected) => {
    const d = decideRun(given);
    expect(d.start?.name).toBe(expected.start);
    if ('next' in expected) expect(d.nextScheduleTime.toISOString()).toBe(expected.next);
    if ('last' in expected) expect(d.lastScheduleTime?.toISOString()).toBe(expected.last);
    if ('skipped' in expected) expect(d.skipped?.reason).toBe(expected.skipped);
    if ('replace' in expected) expect(d.replace).toEqual(expected.replace);
    if ('handled' in expected) expect(d.handledRequestedAt).toBe(expected.handled);
  });

  it('names runs after the scheduled minute, so names are stable across restarts', () => {
    expect(runName('maple-appointments', at('2026-11-23T09:30:00Z'))).toBe(
      `maple-appointments-${Date.parse('2026-11-23T09:30:00Z') / 60_000}`,
    );
    expect(runName('x', at('2026-11-23T09:30:00Z'))).toBe(runName('x', at('2026-11-23T09:30:59Z')));
  });
});
