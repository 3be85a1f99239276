// The first step: a spec that cannot work as written stalls the site before anything is touched.
import type { OceanSiteSpec } from '../../api/v1alpha1/index.ts';
import { type KeyLocation, refusedKeyLocation } from '../../internal/sek/identity.ts';
import { TerminalError } from '../../runtime/errors.ts';
import { isKnownTimeZone } from '../../runtime/time-zone.ts';

/** The Stalled reason of a spec.encryptionKey.vault field that names another key than the site's own. */
const KEY_LOCATION_NOT_ALLOWED = 'KeyLocationNotAllowed';

/**
 * Pure: the stall of a spec.encryptionKey.vault field that is not the site's canonical location
 * (another clinic's key, a wildcard, another mount), or undefined. With it, the operator reads,
 * writes, imports, grants and destroys nothing for the site.
 */
export function keyLocationError(spec: OceanSiteSpec, location: KeyLocation): TerminalError | undefined {
  const refused = refusedKeyLocation(spec, location);
  if (!refused) return undefined;
  return new TerminalError(
    KEY_LOCATION_NOT_ALLOWED,
    `${refused.field} ${JSON.stringify(refused.given)} is not allowed: the only accepted value is ${JSON.stringify(refused.accepted)} ` +
      `(every site's key lives at ${location.mount}/cloudconnect/<namespace>/<site>/sek); omit the field`,
  );
}

/** Pure: why the spec cannot work (a stall), or undefined when it can. */
export function specError(spec: OceanSiteSpec, location: KeyLocation): TerminalError | undefined {
  const misplaced = keyLocationError(spec, location);
  if (misplaced) return misplaced;
  if (!isKnownTimeZone(spec.timeZone ?? 'UTC')) {
    return new TerminalError('InvalidTimeZone', `spec.timeZone ${JSON.stringify(spec.timeZone)} is not a known IANA time zone`);
  }
  return undefined;
}
