// Every name that the API, the controllers and the programs agree on: the group, and the
// annotations, labels and finalizers written on our own objects and on the Jobs, Pods and
// Deployments the operator creates. One place, so that no two modules spell one differently.
export const GROUP = 'cloudconnect.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const CATEGORY = 'cloudconnect';

/** Annotation carrying an opaque token: any new value asks for the work now (Flux's pattern). */
export const REQUESTED_AT_ANNOTATION = `${GROUP}/requestedAt`;
/** On an EmrIntegration: any new value asks the operator to replay the relay's dead letters. */
export const REPLAY_REQUESTED_AT_ANNOTATION = `${GROUP}/replayRequestedAt`;
/**
 * On an EmrIntegration: any new value makes the operator generate a new webhook API key; the
 * previous one stays valid for spec.webhook.previousKeyGracePeriod.
 */
export const ROTATE_WEBHOOK_KEY_AT_ANNOTATION = `${GROUP}/rotateWebhookKeyAt`;
/** On a site's running pods: the SEK's KV version they must use (the worker reads it through the downward API). */
export const SEK_VERSION_ANNOTATION = `${GROUP}/sek-version`;

/**
 * The type an import Secret must have (spec.encryptionKey.importFrom): the operator copies and deletes
 * only a Secret created for that purpose, never another Secret of the namespace (a Secret's type
 * cannot be changed after creation, so an existing Secret cannot be turned into one).
 */
export const SEK_IMPORT_SECRET_TYPE = `${GROUP}/sek-import`;

/**
 * On an import Secret the operator has consumed: when (RFC 3339) its key went into Vault. The
 * operator then removes the Secret's data (it holds no right to delete Secrets) and makes the site its
 * owner, so the empty Secret goes with the site; new data in it is imported again.
 */
export const SEK_IMPORTED_ANNOTATION = `${GROUP}/imported-into-vault`;

/** Label every pod of a site carries (sync Jobs, the relay). */
export const SITE_LABEL = `${GROUP}/site`;
/** Labels of a sync run's Job and Pod. */
export const RUN_LABELS = {
  schedule: `${GROUP}/schedule`,
  integration: `${GROUP}/integration`,
  site: SITE_LABEL,
  type: `${GROUP}/sync-type`,
  scheduledTime: `${GROUP}/scheduled-time`,
} as const;

/** The OceanSite's finalizer: the Vault role, policy and (with deletionPolicy Delete) the key go first. */
export const SITE_FINALIZER = `${GROUP}/oceansite`;

/**
 * On an EmrIntegration whose webhook the operator registered with Ocean: removed once the
 * registration is deleted from Ocean (or cannot be, which an Event says).
 */
export const WEBHOOK_REGISTRATION_FINALIZER = `${GROUP}/ocean-webhook`;

/** Label the operator puts on the credentials Secrets it uses (EMR and Ocean), so that their edits are watched. */
export const CREDENTIALS_LABEL = `${GROUP}/credentials`;

/**
 * The plugin command that runs OSCAR Pro's OAuth 1.0a authorization (again) for an EmrIntegration and
 * writes the access token into its credentials Secret; the Authenticated condition names it when the
 * token was revoked, expired or is still missing.
 */
export function authorizeCommand(integration: string, namespace: string): string {
  return `kubectl cloudconnect authorize ${integration} -n ${namespace}`;
}

/** The keys an eReferral target's credentials Secret must hold for its `auth` (spec.eReferral.forward; default Bearer). */
export function eReferralCredentialKeys(auth: 'Bearer' | 'Basic' | undefined): readonly string[] {
  return auth === 'Basic' ? ['username', 'password'] : ['token'];
}
