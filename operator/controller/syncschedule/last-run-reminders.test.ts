import { describe, expect, it } from 'vitest';
import { parseTerminationMessage, reminderReasons } from './last-run.ts';

describe("a Reminders run's termination message", () => {
  it('gives status.lastRun its sent, skipped and failed counts', () => {
    const text = JSON.stringify({ result: 'Failed', sent: 4, skipped: 3, failed: 1, errorReason: 'OceanRejected', durationSeconds: 2 });
    expect(parseTerminationMessage(text)).toEqual({ sent: 4, skipped: 3, failed: 1, errorReason: 'OceanRejected', durationSeconds: 2 });
  });

  it('gives the metrics its reasons, PascalCase words only and at most 16 of each', () => {
    const skippedReasons: Record<string, number> = { NoContact: 2, OptedOut: 1, 'patient Jane Doe': 1, Zero: 0 };
    for (let i = 0; i < 20; i++) skippedReasons[`Reason${String.fromCharCode(65 + i)}`] = 1;
    const reasons = reminderReasons(JSON.stringify({ skippedReasons, failedReasons: { OceanUnreachable: 2, '613-555-0142': 1 } }));
    expect(reasons.failed).toEqual({ OceanUnreachable: 2 });
    expect(reasons.skipped).toMatchObject({ NoContact: 2, OptedOut: 1 });
    expect(Object.keys(reasons.skipped)).not.toContain('patient Jane Doe');
    expect(Object.keys(reasons.skipped)).not.toContain('Zero');
    expect(Object.keys(reasons.skipped).length).toBeLessThanOrEqual(16);
  });

  it('has no reasons when the message is not JSON', () => {
    expect(reminderReasons('Error: killed')).toEqual({ skipped: {}, failed: {} });
  });
});
