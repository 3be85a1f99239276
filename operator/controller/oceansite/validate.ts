// The first step: a spec that cannot work as written stalls the site before anything is touched.
import type { OceanSiteSpec } from '../../api/v1alpha1/index.ts';
import { TerminalError } from '../../runtime/errors.ts';
import { isKnownTimeZone } from '../../runtime/time-zone.ts';

/** Pure: why the spec cannot work (a stall), or undefined when it can. */
export function specError(spec: OceanSiteSpec): TerminalError | undefined {
  if (!isKnownTimeZone(spec.timeZone ?? 'UTC')) {
    return new TerminalError('InvalidTimeZone', `spec.timeZone ${JSON.stringify(spec.timeZone)} is not a known IANA time zone`);
  }
  return undefined;
}
