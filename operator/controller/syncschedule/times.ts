// Times of run Jobs as the steps compare them (API timestamps arrive as strings or Dates).

function time(value: unknown): number {
  return value ? new Date(String(value)).getTime() : 0;
}

/** When a Job last changed condition: its finish time when it has no completionTime (a failed Job). */
export function lastTransition(job: { status?: { conditions?: { lastTransitionTime?: unknown }[] } }): string {
  const t = job.status?.conditions
    ?.map((c) => String(c.lastTransitionTime ?? ''))
    .sort()
    .pop();
  return t ?? new Date(0).toISOString();
}

/** When a finished Job finished. */
export function finishTime(job: { status?: { completionTime?: unknown; conditions?: { lastTransitionTime?: unknown }[] } }): number {
  return time(job.status?.completionTime ?? lastTransition(job));
}

export function maxTime(a: string | undefined, b: string): string {
  return !a || new Date(b) > new Date(a) ? b : a;
}
