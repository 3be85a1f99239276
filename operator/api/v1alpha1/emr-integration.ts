// EmrIntegration: one Ocean site bridged to one EMR, with the settings of the Cloud Connect wizard.
// Credentials are only ever referenced by Secret name.
import type { Static } from '@sinclair/typebox';
import { conditionsField, lastHandledRequestedAtField, observedGenerationField } from './conditions.ts';
import { timeZoneField } from './ocean-site.ts';
import {
  bool,
  type CelRule,
  DNS_SUBDOMAIN,
  GO_DURATION,
  int,
  list,
  localRef,
  obj,
  opt,
  quantityMap,
  secretRef,
  str,
  stringEnum,
  stringMap,
  timestamp,
} from './schema-helpers.ts';

const EMR_TYPES = ['PSSuite', 'MedAccess', 'Accuro', 'OSCARPro', 'FHIR', 'None'] as const;
export type EmrType = (typeof EMR_TYPES)[number];

/** The spec.emr field that carries each type's section (None has no section). */
export const EMR_SECTION: Record<Exclude<EmrType, 'None'>, string> = {
  PSSuite: 'psSuite',
  MedAccess: 'medAccess',
  Accuro: 'accuro',
  OSCARPro: 'oscarPro',
  FHIR: 'fhir',
};

function httpsUrl(field: string, description: string, extra: CelRule[] = []) {
  return str(description, {
    minLength: 9,
    maxLength: 2048,
    rules: [{ rule: "self.startsWith('https://') && isURL(self)", message: `${field} must be an https:// URL` }, ...extra],
  });
}

function telusSection(product: string, field: string) {
  return obj(
    {
      instanceId: str(`The EMR Instance ID shown by the Ocean integration module of ${product}.`, {
        minLength: 1,
        maxLength: 128,
        pattern: '^[A-Za-z0-9._-]+$',
      }),
      apiUrl: opt(httpsUrl(`${field}.apiUrl`, `Base URL of the ${product} integration API. Defaults to the vendor endpoint.`)),
      credentialsSecretRef: secretRef(
        `the ${product} credentials`,
        '`instanceSecret` (the EMR Secret) and, when the instance uses one, `activationCode` (the mobile activation code, which expires)',
      ),
    },
    `${product} (TELUS) connection. TELUS publishes no public API: the shape here is the project's design, see docs.`,
  );
}

const duration = (field: string, description: string, dflt?: string) =>
  str(description, {
    ...(dflt === undefined ? {} : { default: dflt }),
    maxLength: 32,
    rules: [
      { rule: `self.matches('${GO_DURATION.replaceAll('\\', '\\\\')}')`, message: `${field} must be a duration such as 30m, 1h or 720h` },
    ],
  });

const documentsOrNotes = (description: string) =>
  stringEnum(['Documents', 'EncounterNotes'] as const, description, { default: 'Documents' });

const EmrSpec = obj(
  {
    type: stringEnum(EMR_TYPES, 'Which EMR this integration talks to. None keeps only the SEK (a site not integrated with an EMR).'),
    psSuite: opt(telusSection('TELUS PS Suite', 'spec.emr.psSuite')),
    medAccess: opt(telusSection('TELUS Med Access', 'spec.emr.medAccess')),
    accuro: opt(
      obj(
        {
          tenantId: str('The Accuro tenant ID provided by QHR, in CAPITALS.', {
            minLength: 1,
            maxLength: 64,
            rules: [
              {
                rule: 'self == self.upperAscii()',
                message: 'spec.emr.accuro.tenantId must be in upper case, as QHR issues it (e.g. CLINIC01)',
              },
            ],
          }),
          apiUrl: opt(httpsUrl('spec.emr.accuro.apiUrl', 'Base URL of the Accuro API. Defaults to the QHR endpoint.')),
          credentialsSecretRef: secretRef(
            'the Accuro API user',
            '`apiUsername`, `apiPassword` (one API username per Cloud Connect instance), `clientId`, `clientSecret`, `subscriptionKey`',
          ),
        },
        'QHR Accuro connection (OAuth2 client credentials, X-QHR-Subscription-Key).',
      ),
    ),
    oscarPro: opt(
      obj(
        {
          serverUrl: str(
            "URL of the OSCAR Pro server including the EMR path, e.g. https://emr.example.org/oscar. It must use https and must not end in '/' (/oscar is right, /oscar/ is wrong).",
            {
              minLength: 9,
              maxLength: 2048,
              rules: [
                { rule: "self.startsWith('https://') && isURL(self)", message: 'spec.emr.oscarPro.serverUrl must be an https:// URL' },
                {
                  rule: "!isURL(self) || (url(self).getEscapedPath() != '' && url(self).getEscapedPath() != '/')",
                  message: 'spec.emr.oscarPro.serverUrl must include the EMR path, e.g. https://emr.example.org/oscar',
                },
                { rule: "!self.endsWith('/')", message: "spec.emr.oscarPro.serverUrl must not end in '/': use .../oscar, not .../oscar/" },
              ],
            },
          ),
          credentialsSecretRef: secretRef(
            'the OSCAR OAuth 1.0a credentials',
            '`clientKey`, `clientSecret`, and after the authorize step `accessToken`, `tokenSecret`',
          ),
        },
        'OSCAR Pro connection (OSCAR REST with OAuth 1.0a). The OceanConnect EMR user authorizes the access once.',
      ),
    ),
    fhir: opt(
      obj(
        {
          baseUrl: httpsUrl('spec.emr.fhir.baseUrl', 'FHIR R4 base URL of the EMR (its CapabilityStatement is at <baseUrl>/metadata).', [
            { rule: "!self.endsWith('/')", message: "spec.emr.fhir.baseUrl must not end in '/'" },
          ]),
          tokenUrl: opt(httpsUrl('spec.emr.fhir.tokenUrl', 'OAuth2 token endpoint. Defaults to <baseUrl>/oauth2/token.')),
          credentialsSecretRef: secretRef('the OAuth2 client', '`clientId`, `clientSecret`'),
        },
        'An EMR reached through Ocean Cloud Connect FHIR model (OAuth2 client credentials).',
      ),
    ),
    timeZone: opt(
      timeZoneField(
        'spec.emr.timeZone',
        "the EMR shows appointment times: times the EMR gives without an offset (OSCAR, Accuro) are read as this zone's wall clock. Set it when the EMR's server runs in another zone than the clinic",
        "the site's spec.timeZone",
      ),
    ),
    caBundleSecretRef: opt(
      obj(
        {
          name: str('Name of the Secret.', { minLength: 1, maxLength: 253 }),
          key: opt(str('Key holding PEM certificates.', { default: 'ca.crt', maxLength: 253 })),
        },
        'Extra certificate authorities to trust for the EMR endpoint, e.g. a self-hosted OSCAR with a private CA.',
      ),
    ),
  },
  'The EMR this site is connected to: its type and the matching section. Only the section named by type may be set.',
  {
    rules: [
      ...Object.entries(EMR_SECTION).map(([type, section]) => ({
        rule: `has(self.${section}) == (self.type == '${type}')`,
        message: `spec.emr.${section} must be set when spec.emr.type is ${type}, and only then`,
      })),
      {
        rule: "self.type != 'None' || !has(self.caBundleSecretRef)",
        message: 'spec.emr.caBundleSecretRef has no meaning when spec.emr.type is None',
      },
    ],
  },
);

/** Where Ocean's eReferral FHIR bundles go (seed 001): forwarded to a referral system over HTTPS. */
const EReferral = obj(
  {
    forward: opt(
      obj(
        {
          url: httpsUrl(
            'spec.eReferral.forward.url',
            "The referral system's endpoint that receives each FHIR bundle as a POST (application/fhir+json, with an Idempotency-Key header that is the same for every retry of one bundle). The relay calls it through the egress sandbox: an address that is, or resolves to, a loopback, private, link-local or cluster address is refused unless the operator allows its range (EGRESS_ALLOW_CIDRS).",
          ),
          auth: opt(
            stringEnum(
              ['Bearer', 'Basic'],
              'How the relay authenticates to the target: Bearer sends the Secret key `token` as `Authorization: Bearer`; Basic sends `username` and `password`.',
              { default: 'Bearer' },
            ),
          ),
          credentialsSecretRef: secretRef(
            "the eReferral target's credentials (mounted into the relay only)",
            '`token` (auth Bearer), or `username` and `password` (auth Basic)',
          ),
          caBundleSecretRef: opt(
            obj(
              {
                name: str('Name of the Secret, in the same namespace as this resource.', {
                  minLength: 1,
                  maxLength: 253,
                  pattern: DNS_SUBDOMAIN,
                }),
                key: opt(str('Key holding PEM certificates.', { default: 'ca.crt', maxLength: 253 })),
              },
              "Extra certificate authorities to trust for the target's https endpoint (a referral system behind a private CA).",
            ),
          ),
        },
        "Forward every bundle to this HTTP endpoint through the relay's durable queue (retried on Ocean's schedule while the target is down, dead-lettered past it, each bundle posted once). Without it the integration's EMR files each bundle as a received referral (spec.settings.referrals): the referred Patient must carry an identifier of type MR (the EMR chart id) and the Bundle a PDF referral letter, else the bundle is refused with 422. Required when spec.emr.type is None.",
      ),
    ),
  },
  "eReferral endpoint (seed 001): the relay also accepts Ocean's eReferral FHIR bundles at POST /ocean/fhir_bundles, authenticated like its webhook (spec.webhook.keyHeader, default Referral-Integration-API-Key), checks that each is a FHIR R4 Bundle with a ServiceRequest, queues it encrypted with the SEK and forwards it. With spec.emr.type None this is the whole integration (a site without an integrated EMR); with an EMR it either forwards them to a third-party referral system or (without forward) files them in the EMR.",
);

const EmrSettings = obj(
  {
    scheduleDaysToSync: opt(
      int('Number of days of appointments synced into Ocean Day Sheet (Schedule Days to Sync).', { default: 1, minimum: 1, maximum: 31 }),
    ),
    syncProviderIds: opt(
      list(
        str('An EMR provider ID.', { minLength: 1, maxLength: 64 }),
        'Sync appointments for these providers only. Empty means every provider the API user can see.',
        {
          maxItems: 500,
          'x-kubernetes-list-type': 'set',
        },
      ),
    ),
    syncOfficeIds: opt(
      list(str('An Accuro office ID.', { minLength: 1, maxLength: 64 }), 'Accuro only: sync appointments for these offices only.', {
        maxItems: 200,
        'x-kubernetes-list-type': 'set',
      }),
    ),
    markArrivedWithinHours: opt(
      int('After a kiosk check-in, mark the patient appointments within this many hours as Arrived. 0 turns it off.', {
        default: 2,
        minimum: 0,
        maximum: 24,
      }),
    ),
    combineProgressNotes: opt(bool('Combine the progress notes of several Ocean eForms of one visit into one note.', { default: false })),
    autoImportAttachments: opt(
      bool('Import attachments into the EMR automatically. eReferral users must keep it on (a warning condition says so).', {
        default: true,
      }),
    ),
    eReferral: opt(bool('Whether the site receives eReferrals; turns off-attachments into a warning condition.', { default: false })),
    customFields: opt(
      bool(
        'Write the Ocean eForm answers mapped to EMR custom demographic fields into the patient (off: the form is filed, the answers are not written).',
        { default: false },
      ),
    ),
    secureMessages: opt(
      obj(
        {
          saveAs: opt(documentsOrNotes('How secure messages to and from patients are saved in the EMR: Documents or EncounterNotes.')),
          documentFolder: opt(str('Document folder for messages and their attachments.', { maxLength: 128 })),
          documentSubfolder: opt(str('Document subfolder.', { maxLength: 128 })),
          letterType: opt(str('Letter type of encounter notes; required when saveAs is EncounterNotes.', { maxLength: 128 })),
        },
        'Where secure messages go in the EMR.',
        {
          default: {},
          rules: [
            {
              rule: "!has(self.saveAs) || self.saveAs != 'EncounterNotes' || has(self.letterType)",
              message: 'spec.settings.secureMessages.letterType is required when saveAs is EncounterNotes',
            },
          ],
        },
      ),
    ),
    referrals: opt(
      obj(
        {
          sentSaveAs: opt(documentsOrNotes('How sent referrals are saved. eReferral users should keep Documents to receive attachments.')),
          receivedSaveAs: opt(documentsOrNotes('How received referrals are saved. eReferral users should keep Documents.')),
          documentFolder: opt(str('Document folder for referrals.', { maxLength: 128 })),
        },
        'Where referrals go in the EMR.',
        { default: {} },
      ),
    ),
    walkIn: opt(
      obj(
        {
          enabled: opt(bool('Accept walk-in patients at the kiosk.', { default: false })),
          providerId: opt(str('EMR provider ID that walk-in appointments are booked for.', { maxLength: 64 })),
          appointmentType: opt(str('EMR appointment type of walk-in appointments.', { maxLength: 128 })),
          durationMinutes: opt(int('Length of a walk-in appointment in minutes.', { default: 15, minimum: 5, maximum: 240 })),
        },
        'Walk-in settings; clinics without walk-ins can ignore them.',
        {
          default: {},
          rules: [
            {
              rule: '!has(self.enabled) || !self.enabled || has(self.providerId)',
              message: 'spec.settings.walkIn.providerId is required when walk-ins are enabled',
            },
          ],
        },
      ),
    ),
  },
  'Cloud Connect settings of the integration; the defaults suit most clinics.',
  { default: {} },
);

export const EmrIntegrationSpec = obj(
  {
    siteRef: localRef('OceanSite this integration belongs to'),
    emr: EmrSpec,
    settings: opt(EmrSettings),
    auth: opt(
      obj(
        {
          checkInterval: opt(duration('spec.auth.checkInterval', 'How often authentication is checked against the EMR (jittered).', '1h')),
          renewBefore: opt(
            duration(
              'spec.auth.renewBefore',
              'How long before the credential expires AuthExpiringSoon turns True. Defaults to one third of the credential lifetime.',
            ),
          ),
        },
        'Authentication checks and expiry warnings.',
        { default: {} },
      ),
    ),
    syncWorker: opt(
      obj(
        {
          resources: opt(
            obj(
              {
                requests: opt(quantityMap('Minimum resources, e.g. cpu: 100m, memory: 128Mi.')),
                limits: opt(quantityMap('Maximum resources.')),
              },
              'Compute resources of the sync container.',
            ),
          ),
          nodeSelector: opt(stringMap('Node labels the sync pods must run on.')),
          priorityClassName: opt(str('PriorityClass of the sync pods.', { maxLength: 253 })),
          activeDeadlineSeconds: opt(int('Longest a sync run may take before it is stopped.', { minimum: 60, maximum: 86400 })),
        },
        'Overrides for the sync pods of this integration.',
      ),
    ),
    webhook: opt(
      obj(
        {
          keyHeader: opt(
            str(
              "HTTP header in which Ocean sends the integration's API key (the Header Name of Ocean's integration registration). The key itself is generated by the operator and kept in Vault at <SEK_KV_MOUNT>/cloudconnect/<namespace>/<site>/relay/<integration> (field current); it never appears in the spec or status.",
              { default: 'Referral-Integration-API-Key', minLength: 1, maxLength: 64, pattern: '^[A-Za-z][A-Za-z0-9-]*$' },
            ),
          ),
          previousKeyGracePeriod: opt(
            duration(
              'spec.webhook.previousKeyGracePeriod',
              'After a rotation of the API key (annotation cloudconnect.dev/rotateWebhookKeyAt), how long the previous key is still accepted, so that the new one can be entered in Ocean first.',
              '24h',
            ),
          ),
          publicUrl: opt(
            httpsUrl(
              'spec.webhook.publicUrl',
              "The URL at which Ocean reaches this integration's relay webhook from the internet, e.g. https://clinic.example.org/ocean/webhook (an Ingress, a load balancer or a tunnel in front of the Service <integration>-relay, path /ocean/webhook, made by you). When set, and the site has spec.ocean.credentialsSecretRef, the operator registers it with Ocean (Register an Integration, API Key Authentication with spec.webhook.keyHeader and the relay's key, a copy of new referrals sent to it), updates the registration when the URL, header or key changes and removes it when the integration is deleted or the field removed. Without it nothing is registered: enter the URL and key in the Ocean Portal yourself.",
            ),
          ),
          tls: opt(
            obj(
              {
                secretRef: secretRef("the webhook's TLS certificate and key (type kubernetes.io/tls)", 'tls.crt, tls.key'),
              },
              'Serve the webhook over HTTPS with this certificate (mounted into the relay; a renewed certificate is picked up within a minute). Without it the webhook is plain HTTP, for TLS terminated in front of the relay.',
            ),
          ),
        },
        "Ocean's webhook on the relay: how it is authenticated and served.",
        { default: {} },
      ),
    ),
    eReferral: opt(EReferral),
    suspend: opt(
      bool(
        'Stop scheduling syncs and relaying messages; running syncs finish. The relay Deployment is scaled to 0: Ocean keeps EMR-bound messages and retries their webhook.',
        { default: false },
      ),
    ),
  },
  'Desired state of the connection between an Ocean site and an EMR.',
  {
    rules: [
      {
        rule: "!has(self.settings) || !has(self.settings.syncOfficeIds) || size(self.settings.syncOfficeIds) == 0 || self.emr.type == 'Accuro'",
        message: 'spec.settings.syncOfficeIds applies to Accuro only',
      },
      {
        rule: "!has(self.eReferral) || has(self.eReferral.forward) || self.emr.type != 'None'",
        message: 'spec.eReferral.forward is required when spec.emr.type is None: there is no EMR to file the referrals in',
      },
    ],
  },
);

export const EmrIntegrationStatus = obj(
  {
    observedGeneration: opt(observedGenerationField()),
    conditions: opt(conditionsField()),
    lastHandledRequestedAt: opt(lastHandledRequestedAtField()),
    auth: opt(
      obj(
        {
          notAfter: opt(timestamp('When the EMR credential expires, when the EMR says so.')),
          renewalTime: opt(timestamp('From this time AuthExpiringSoon is True until the credential is renewed.')),
          lastCheckTime: opt(timestamp('When authentication was last checked.')),
          lastFailureTime: opt(timestamp('When authentication last failed.')),
          failedAttempts: opt(int('Consecutive failed checks since the last success.', { minimum: 0 })),
        },
        'Authentication against the EMR.',
      ),
    ),
    providers: opt(
      obj(
        {
          discovered: opt(int('Providers the API user can see.', { minimum: 0 })),
          missing: opt(
            list(
              str('A provider ID.'),
              'Configured provider IDs that the API user cannot see: their appointments are missing from syncs.',
              { maxItems: 500 },
            ),
          ),
          visible: opt(
            list(str('A provider ID.'), 'Provider IDs the API user saw at the last check (the baseline of the next).', { maxItems: 500 }),
          ),
          vanished: opt(
            list(
              str('A provider ID.'),
              'While every visible provider is synced: providers seen at an earlier check and no longer visible (their appointments stopped syncing). Cleared when they are visible again or the spec is edited.',
              { maxItems: 500 },
            ),
          ),
          notSynced: opt(
            list(str('A provider ID.'), 'Providers the EMR has that spec.settings.syncProviderIds does not sync (NewProvidersAvailable).', {
              maxItems: 500,
            }),
          ),
        },
        'Providers seen in the EMR.',
      ),
    ),
    sync: opt(
      obj(
        {
          lastFullSyncTime: opt(timestamp('When the last full sync finished successfully.')),
          nextFullSyncTime: opt(timestamp('When the next full sync is scheduled.')),
          lastAppointmentSyncTime: opt(timestamp('When the last appointment sync finished successfully.')),
          nextAppointmentSyncTime: opt(timestamp('When the next appointment sync is scheduled.')),
          lastSyncTime: opt(timestamp('When the last sync of any type finished successfully.')),
          nextSyncTime: opt(timestamp('The next scheduled sync of any type.')),
          lastError: opt(str('Reason of the last failed sync, if the last run failed.', { maxLength: 1024 })),
        },
        'The Sync Status panel: last and next syncs.',
      ),
    ),
    webhook: opt(
      obj(
        {
          keyVersion: opt(
            int("KV v2 version of the webhook's API key record in Vault (it changes at every rotation); never the key.", {
              minimum: 0,
              format: 'int64',
            }),
          ),
          keyRotatedAt: opt(timestamp('When the current API key was generated.')),
          previousKeyValidUntil: opt(
            timestamp('Until when the key before the last rotation is still accepted; absent when it no longer is.'),
          ),
          lastHandledRotateKeyAt: opt(
            str('The last value of the cloudconnect.dev/rotateWebhookKeyAt annotation that the operator acted on.', { maxLength: 256 }),
          ),
          registration: opt(
            obj(
              {
                id: str("Ocean's id of the integration registration.", { maxLength: 128 }),
                url: str('The request URL registered with Ocean (spec.webhook.publicUrl when registered).', { maxLength: 2048 }),
                keyHeader: opt(str('The API key header registered with Ocean.', { maxLength: 64 })),
                keyVersion: int('Version of the webhook key (keyVersion) that Ocean was given; never the key.', {
                  minimum: 0,
                  format: 'int64',
                }),
                lastVerified: opt(timestamp('When the operator last saw the registration in Ocean as it wants it.')),
              },
              "The webhook's registration with Ocean, as the operator made it (see the WebhookRegistered condition).",
            ),
          ),
        },
        "Ocean's webhook API key: its version and rotation times, never the key.",
      ),
    ),
    relay: opt(
      obj(
        {
          pending: opt(
            int('EMR-bound messages stored in the queue and not yet delivered, including those waiting for a retry.', {
              minimum: 0,
              format: 'int64',
            }),
          ),
          oldestPendingTime: opt(timestamp('When the oldest pending message was received; absent when nothing is pending.')),
          oldestPendingAge: opt(
            str(
              'How long the oldest pending message has waited, as a Go duration, coarse on purpose (whole minutes under an hour, 10-minute steps under a day, then hours) so that status is not rewritten at every poll; oldestPendingTime is exact.',
              {
                maxLength: 32,
              },
            ),
          ),
          deliveredTotal: opt(int('Messages delivered to the EMR since the relay was first deployed.', { minimum: 0, format: 'int64' })),
          deadLettered: opt(
            int(
              'Messages in the dead-letter subject: rejected for good or out of retries after 96 hours. Replay them with the cloudconnect.dev/replayRequestedAt annotation once the cause is fixed.',
              { minimum: 0, format: 'int64' },
            ),
          ),
          lastFailureReason: opt(
            str('Why the last delivery attempt failed (e.g. EmrUnreachable); absent after a success.', { maxLength: 64 }),
          ),
          updatedAt: opt(timestamp('When the relay reported these figures (refreshed only when a figure changes).')),
          lastHandledReplayAt: opt(
            str('The last value of the cloudconnect.dev/replayRequestedAt annotation that the operator acted on.', { maxLength: 256 }),
          ),
          lastReplayedCount: opt(int('How many dead letters the last replay moved back to the queue.', { minimum: 0, format: 'int64' })),
        },
        'The EMR-bound message relay (Ocean webhook → durable NATS JetStream queue → EMR), as last reported by the relay; see the Delivering condition.',
      ),
    ),
  },
  'Observed state of the integration.',
);

export type EmrSpec = Static<typeof EmrSpec>;
export type EmrSettings = Static<typeof EmrSettings>;
export type EReferralSpec = Static<typeof EReferral>;
export type EmrIntegrationSpec = Static<typeof EmrIntegrationSpec>;
export type EmrIntegrationStatus = Static<typeof EmrIntegrationStatus>;
