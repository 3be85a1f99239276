// Pure: what the providers listed at an authentication check mean for the sync settings (seed 000,
// "Sync Appointments for Provider(s)"; seed 002, the Accuro provider permissions of the API user):
// - missing: configured providers (spec.settings.syncProviderIds) the API user cannot see;
// - vanished: while every visible provider is synced (syncProviderIds empty), the providers the API
//   user saw at an earlier check and no longer sees: their appointments stop syncing without an error.
//   Remembered in status until they are visible again or the spec is edited (which acknowledges them);
// - notSynced: providers the EMR lists that syncProviderIds leaves out (NewProvidersAvailable).
// Each list is sorted and capped at MAX_LISTED ids (the status schema's maxItems).
import type { EmrAdapterType } from '../../internal/emr/index.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';

const MAX_LISTED = 500;
/** How many ids a condition message names before "and N more". */
const MAX_NAMED = 20;

/** What the last check saw of the EMR's providers (status.providers). */
export interface Providers {
  /** How many providers the API user sees. */
  discovered: number;
  /** Configured providers the API user cannot see. */
  missing: string[];
  /** The providers the API user sees (the baseline of the next check). */
  visible?: string[];
  /** Seen at an earlier check, not any more (only while every visible provider is synced). */
  vanished?: string[];
  /** Visible providers that syncProviderIds does not sync (only when it lists some). */
  notSynced?: string[];
}

const sorted = (ids: Iterable<string>) => [...new Set(ids)].sort().slice(0, MAX_LISTED);

/**
 * The providers a check saw: `listed` are the ids the EMR gave, `configured` the spec's
 * syncProviderIds, `before` the previous check's, `specEdited` whether the spec changed since then.
 */
export function providersSeen(
  listed: readonly string[],
  configured: readonly string[],
  before: { visible?: readonly string[]; vanished?: readonly string[] } | undefined,
  specEdited: boolean,
): Providers {
  const visible = new Set(listed);
  const result: Providers = { discovered: visible.size, missing: configured.filter((p) => !visible.has(p)), visible: sorted(visible) };
  if (configured.length === 0) {
    const earlier = [...(before?.visible ?? []), ...(specEdited ? [] : (before?.vanished ?? []))];
    const vanished = sorted(earlier.filter((id) => !visible.has(id)));
    if (vanished.length > 0) result.vanished = vanished;
  } else {
    const synced = new Set(configured);
    const notSynced = sorted([...visible].filter((id) => !synced.has(id)));
    if (notSynced.length > 0) result.notSynced = notSynced;
  }
  return result;
}

/** "a, b, c and 3 more". */
export function named(ids: readonly string[]): string {
  const shown = ids.slice(0, MAX_NAMED).join(', ');
  return ids.length > MAX_NAMED ? `${shown} and ${ids.length - MAX_NAMED} more` : shown;
}

/** How to give the API user permission for providers, in the EMR's words where we know them. */
function permissionHint(emr: EmrAdapterType | undefined): string {
  if (emr === 'Accuro')
    return "update the Accuro provider permissions of the API user (Accuro: Users, the API user, tab 'Provider Permissions'), then request a re-check";
  return 'give the API user permission for them in the EMR, then request a re-check';
}

/** ProvidersVisible, only while authenticated and once the providers were listed. */
export function providersCondition(
  authenticated: ConditionInput,
  providers: Providers | undefined,
  emr?: EmrAdapterType,
): ConditionInput | undefined {
  if (authenticated.status !== 'True' || !providers) return undefined;
  if (providers.missing.length > 0) {
    return {
      type: 'ProvidersVisible',
      status: 'False',
      reason: 'ProvidersNotVisible',
      message: `The EMR API user cannot see configured provider(s) ${named(providers.missing)}: their appointments will be missing (${permissionHint(emr)})`,
    };
  }
  if (providers.vanished?.length) {
    return {
      type: 'ProvidersVisible',
      status: 'False',
      reason: 'ProvidersVanished',
      message:
        `The EMR API user no longer sees provider(s) ${named(providers.vanished)}, seen at an earlier check: their appointments no longer sync ` +
        `(${permissionHint(emr)}; if they left the clinic, edit the spec, e.g. list the providers to sync in spec.settings.syncProviderIds, to acknowledge it)`,
    };
  }
  return { type: 'ProvidersVisible', status: 'True', reason: 'AllVisible', message: `${providers.discovered} provider(s) visible` };
}

/** NewProvidersAvailable (seed 000: "if other providers start using Ocean, enable them"), only while authenticated and once listed. */
export function newProvidersCondition(authenticated: ConditionInput, providers: Providers | undefined): ConditionInput | undefined {
  if (authenticated.status !== 'True' || !providers) return undefined;
  if (providers.notSynced?.length) {
    return {
      type: 'NewProvidersAvailable',
      status: 'True',
      reason: 'ProvidersNotSynced',
      message:
        `The EMR has ${providers.notSynced.length} provider(s) that spec.settings.syncProviderIds does not sync: ${named(providers.notSynced)} ` +
        '(if they start using Ocean, add them to spec.settings.syncProviderIds)',
    };
  }
  return {
    type: 'NewProvidersAvailable',
    status: 'False',
    reason: 'AllProvidersSynced',
    message: 'Every provider the API user sees is synced',
  };
}
