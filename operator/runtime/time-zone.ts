// IANA time zone validation with the runtime's own tz database (the CRD checks only the shape).
// Building an Intl.DateTimeFormat costs tens of microseconds, and every schedule's reconcile asks, so
// answers are remembered: a fleet uses a handful of zones, and the tz database does not change while
// the process runs. Only known names are kept (an unknown one is rare and may be anything).
const known = new Set<string>();

export function isKnownTimeZone(name: string): boolean {
  if (known.has(name)) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
  } catch {
    return false;
  }
  known.add(name);
  return true;
}
