// OceanSite: one Ocean site, where its Shared Encryption Key (SEK) lives, who administers it and
// which support sites may help. Seeds 000, 003 and 004.
import type { Static } from '@sinclair/typebox';
import { conditionsField, lastHandledRequestedAtField, observedGenerationField } from './conditions.ts';
import {
  bool,
  type CelRule,
  DNS_SUBDOMAIN,
  GO_DURATION,
  int,
  list,
  obj,
  opt,
  secretRef,
  str,
  stringEnum,
  timestamp,
} from './schema-helpers.ts';

const IANA_TIME_ZONE = '^(UTC|[A-Za-z][A-Za-z_+-]*(/[A-Za-z0-9][A-Za-z0-9_+-]*){1,2})$';

/** An IANA time zone name; `defaultsTo` says what an absent value means (UTC gets a schema default). */
export function timeZoneField(field: string, what: string, defaultsTo = 'UTC') {
  return str(`IANA time zone name (e.g. America/Toronto) in which ${what}. Defaults to ${defaultsTo}.`, {
    ...(defaultsTo === 'UTC' ? { default: 'UTC' } : {}),
    maxLength: 64,
    rules: [
      {
        rule: `self.matches('${IANA_TIME_ZONE}')`,
        message: `${field} must be an IANA time zone name such as America/Toronto or UTC`,
      },
    ],
  });
}

const VaultKeyLocation = obj(
  {
    mount: opt(
      str(
        "KV version 2 mount holding the key. Kept for compatibility: the mount is the operator's (its SEK_KV_MOUNT, default secret), and any other value stalls the site (KeyLocationNotAllowed); omit it.",
        { minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.-]+$' },
      ),
    ),
    path: opt(
      str(
        'Path of the key inside the mount. Kept for compatibility: the only accepted value is cloudconnect/<namespace>/<site name>/sek, where every site key lives; any other value is refused (another namespace stalls the site with KeyLocationNotAllowed); omit it.',
        {
          minLength: 1,
          maxLength: 512,
          rules: [
            {
              rule: "!self.startsWith('/') && !self.endsWith('/') && !self.contains('//') && !self.contains('..')",
              message: 'spec.encryptionKey.vault.path must be a relative KV path without leading or trailing /, // or ..',
            },
            {
              rule: "!self.contains('*') && !self.contains('+')",
              message: 'spec.encryptionKey.vault.path must not contain * or + (Vault policy wildcards)',
            },
          ],
        },
      ),
    ),
  },
  "Where the SEK is kept in Vault (KV version 2): always <operator's mount>/cloudconnect/<namespace>/<site name>/sek. The key itself is never stored in Kubernetes.",
);

const HAS_PATH = (o: string) =>
  `has(${o}.spec.encryptionKey) && has(${o}.spec.encryptionKey.vault) && has(${o}.spec.encryptionKey.vault.path)`;

/**
 * The root-level rule (the only place that sees metadata.name): a vault.path names this site's own
 * key, cloudconnect/<a namespace>/<this name>/sek (the operator checks the namespace). A path an
 * update leaves as it was stands (optionalOldSelf), so an object stored before the rule can still
 * get its status and lose its finalizer. Written with has() rather than optionals: the cost
 * estimate of an optional chain over the whole object exceeds the API server's budget.
 */
export const SITE_KEY_PATH_RULE: CelRule = {
  rule:
    `!(${HAS_PATH('self')}) || ` +
    `(oldSelf.hasValue() && ${HAS_PATH('oldSelf.value()')} && oldSelf.value().spec.encryptionKey.vault.path == self.spec.encryptionKey.vault.path) || ` +
    "(self.spec.encryptionKey.vault.path.matches('^cloudconnect/[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?/[^/]+/sek$') && " +
    "self.spec.encryptionKey.vault.path.endsWith('/' + self.metadata.name + '/sek'))",
  message: 'spec.encryptionKey.vault.path must be cloudconnect/<this namespace>/<this OceanSite name>/sek (or be omitted)',
  fieldPath: '.spec.encryptionKey.vault.path',
  reason: 'FieldValueForbidden',
  optionalOldSelf: true,
};

/**
 * A site's sync and relay pods run as the ServiceAccount of the site's name, which Vault's templated
 * sync policy maps to the site's key; every pod of a namespace that names no ServiceAccount runs as
 * `default`. So no OceanSite is called `default` (one stored before the rule stays updatable).
 */
export const SITE_NAME_RULE: CelRule = {
  rule: "oldSelf.hasValue() || self.metadata.name != 'default'",
  message:
    "metadata.name: an OceanSite cannot be named default: its pods run as the ServiceAccount of the site's name, and every pod of the namespace may run as default",
  reason: 'FieldValueInvalid',
  optionalOldSelf: true,
};

const oceanDuration = (field: string, description: string, dflt: string) =>
  str(description, {
    default: dflt,
    maxLength: 32,
    rules: [
      { rule: `self.matches('${GO_DURATION.replaceAll('\\', '\\\\')}')`, message: `${field} must be a duration such as 30m, 1h or 168h` },
    ],
  });

/**
 * The site's Ocean API client (seed 001: Menu > Admin > Integrations > Manage Credentials > Manage
 * OAuth Credentials generates a Client ID and a Secret). Same-namespace Secret only.
 */
const OceanAccess = obj(
  {
    credentialsSecretRef: opt(
      secretRef(
        "the site's Ocean OAuth client, generated in the Ocean Portal (Menu > Admin > Manage Credentials > Manage OAuth Credentials > Add New Credential)",
        '`clientId`, `clientSecret`',
      ),
    ),
    checkInterval: opt(
      oceanDuration('spec.ocean.checkInterval', 'How often the operator checks the Ocean client against Ocean (jittered).', '1h'),
    ),
    renewBefore: opt(
      oceanDuration(
        'spec.ocean.renewBefore',
        'When Ocean reports an expiry for the client secret: how long before it OceanAuthenticated turns to reason ExpiresSoon and the Clinical Administrator is e-mailed.',
        '168h',
      ),
    ),
  },
  "Ocean API access of the site: the OAuth client the sync workers upload with and the operator registers the relays' webhooks with. Without credentialsSecretRef each integration's sync reads the keys oceanClientId and oceanClientSecret of its EMR credentials Secret (the behaviour before this field; deprecated) and no webhook is registered with Ocean.",
  { default: {} },
);

export const OceanSiteSpec = obj(
  {
    siteNumber: str('The Ocean site number (digits), as shown in the Ocean Portal under Admin > Site.', {
      minLength: 1,
      maxLength: 12,
      pattern: '^[0-9]+$',
    }),
    displayName: opt(str('Human-readable name of the site, e.g. the clinic name.', { maxLength: 200 })),
    clinicalAdminEmail: str('E-mail of the Clinical Administrator: told of every access to the SEK and of every detected error.', {
      format: 'email',
      minLength: 3,
      maxLength: 254,
      pattern: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$',
    }),
    timeZone: opt(timeZoneField('spec.timeZone', 'the clinic works; default schedules of its integrations use it')),
    encryptionKey: opt(
      obj(
        {
          importFrom: opt(
            obj(
              {
                secretRef: obj(
                  {
                    name: str('Name of the Secret holding the key, in this namespace.', {
                      minLength: 1,
                      maxLength: 253,
                      pattern: DNS_SUBDOMAIN,
                    }),
                    key: opt(str('Key of the Secret data holding the SEK.', { default: 'sek', minLength: 1, maxLength: 253 })),
                  },
                  'A one-time Secret of type cloudconnect.dev/sek-import (e.g. kubectl create secret generic <name> --type=cloudconnect.dev/sek-import --from-file=sek=<file>): the operator copies its key into Vault and then removes the data from the Secret (annotated cloudconnect.dev/imported-into-vault, owned by the site), so the SEK is in etcd only until the first reconcile. A Secret of any other type is refused (ImportSecretNotMarked) and neither read nor changed.',
                ),
              },
              'Import the SEK once from a Secret of type cloudconnect.dev/sek-import. After import the Secret is emptied.',
            ),
          ),
          vault: opt(VaultKeyLocation),
          deletionPolicy: opt(
            stringEnum(
              ['Retain', 'Delete'] as const,
              'What happens to the key in Vault when the OceanSite is deleted: Retain (default) keeps it, Delete destroys every version.',
              {
                default: 'Retain',
              },
            ),
          ),
          recheckInterval: opt(
            str('How often the operator re-reads the key version from Vault to notice a rotation (a Go duration).', {
              default: '10m',
              rules: [
                {
                  rule: "self.matches('^([0-9]+(\\\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$')",
                  message: 'spec.encryptionKey.recheckInterval must be a duration such as 10m or 1h',
                },
              ],
            }),
          ),
        },
        'The site Shared Encryption Key (SEK). It lives in Vault only; status shows a fingerprint, never the key.',
        { default: {} },
      ),
    ),
    ocean: opt(OceanAccess),
    supportSites: opt(
      list(
        obj(
          {
            name: str('Name of the support site; its people are the group cloudconnect:support:<name>.', {
              minLength: 1,
              maxLength: 63,
              pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
            }),
            expiresAt: opt(timestamp('When the support access is removed. Omit for access until the entry is removed.')),
          },
          'A support site given edit rights on this namespace cloudconnect resources, without access to Secrets or the SEK.',
        ),
        'Support sites allowed to administer this site. They never get the SEK nor EMR credentials.',
        { maxItems: 20, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
      ),
    ),
    notifications: opt(
      obj(
        {
          emailOnKeyAccess: opt(bool('E-mail the Clinical Administrator on every access to the SEK.', { default: true })),
          emailOnError: opt(bool('E-mail the Clinical Administrator when an error is detected.', { default: true })),
          additionalRecipients: opt(
            list(str('An e-mail address.', { format: 'email', maxLength: 254 }), 'Other addresses that receive the same e-mails.', {
              maxItems: 10,
            }),
          ),
        },
        'Who is told of SEK accesses and errors, in addition to Kubernetes Events and Prometheus alerts.',
        { default: {} },
      ),
    ),
  },
  'Desired state of an Ocean site.',
);

export const OceanSiteStatus = obj(
  {
    observedGeneration: opt(observedGenerationField()),
    conditions: opt(conditionsField()),
    lastHandledRequestedAt: opt(lastHandledRequestedAtField()),
    encryptionKey: opt(
      obj(
        {
          mount: opt(str('KV version 2 mount holding the key.')),
          path: opt(str('Path of the key in Vault.')),
          version: opt(int('KV version of the key currently in use.', { minimum: 0 })),
          fingerprint: opt(
            str('First 16 hex characters of the SHA-256 of the key: identifies it without revealing it.', { maxLength: 64 }),
          ),
          storedAt: opt(timestamp('When this version of the key was stored in Vault.')),
        },
        'What the operator knows of the SEK in Vault. Never the key itself.',
      ),
    ),
    ocean: opt(
      obj(
        {
          lastCheckTime: opt(timestamp('When the Ocean client was last checked against Ocean.')),
          notAfter: opt(timestamp('When the Ocean client secret expires, when Ocean says so.')),
          renewalTime: opt(timestamp('From this time OceanAuthenticated has reason ExpiresSoon until the client is renewed.')),
        },
        'The Ocean client of spec.ocean.credentialsSecretRef as last checked (see the OceanAuthenticated condition). Never the client id or secret.',
      ),
    ),
    serviceAccountName: opt(str('ServiceAccount that the site sync pods run as; its Vault role can read only this site SEK.')),
    integrations: opt(int('Number of EmrIntegrations referring to this site.', { minimum: 0 })),
    supportAccess: opt(
      list(
        obj(
          {
            name: str('Support site name.'),
            expiresAt: opt(timestamp('When the access ends.')),
            active: bool('Whether the RoleBinding currently exists.'),
          },
          'Support access as granted.',
        ),
        'Support access currently granted.',
        { maxItems: 20 },
      ),
    ),
  },
  'Observed state of an Ocean site.',
);

export type OceanSiteSpec = Static<typeof OceanSiteSpec>;
export type OceanSiteStatus = Static<typeof OceanSiteStatus>;
