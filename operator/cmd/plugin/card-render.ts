// Pure: the credential reference card of one Ocean site (seed 004: "record your integration
// credentials for organization and safekeeping"): every identifier a person needs in an emergency
// (site number, EMR type, tenant and instance ids, API user names, where each Secret and key is kept,
// the SEK's fingerprint and version, support sites, who is e-mailed), and never a secret value. The
// only values read from a credentials Secret are those of PUBLIC_CREDENTIAL_KEYS (names of users and
// clients, which the EMR shows in its own screens); every other key is named, not shown.
import type { EmrIntegration, OceanSite } from '../../api/v1alpha1/index.ts';

/** The keys of a credentials Secret whose values identify (a user, a client) and are not secrets. */
const PUBLIC_CREDENTIAL_KEYS: Readonly<Record<string, readonly string[]>> = {
  Accuro: ['apiUsername', 'clientId'],
  OSCARPro: ['clientKey'],
  FHIR: ['clientId'],
  PSSuite: [],
  MedAccess: [],
};

/** What the card shows of one credentials Secret: its key names, and the values of the public ones. */
export interface SecretIdentifiers {
  name: string;
  keys: string[];
  identifiers: Record<string, string>;
  /** Why it could not be read (no permission, missing). */
  error?: string;
}

/** Pure: the part of a Secret's data the card may show. */
export function secretIdentifiers(name: string, emrType: string, data: Record<string, string> | undefined): SecretIdentifiers {
  const allowed = PUBLIC_CREDENTIAL_KEYS[emrType] ?? [];
  const keys = Object.keys(data ?? {}).sort();
  const identifiers: Record<string, string> = {};
  for (const key of allowed) {
    const value = data?.[key];
    if (value !== undefined) identifiers[key] = Buffer.from(value, 'base64').toString('utf8');
  }
  return { name, keys, identifiers };
}

export interface CardInput {
  site: OceanSite;
  integrations: EmrIntegration[];
  secrets: Map<string, SecretIdentifiers>;
  context: string;
  now: Date;
}

type Row = [label: string, value: string];
interface Section {
  title: string;
  rows: Row[];
}

const yesNo = (v: boolean | undefined, dflt: boolean) => ((v ?? dflt) ? 'yes' : 'no');

function siteSection(site: OceanSite): Section {
  const spec = site.spec;
  const key = site.status?.encryptionKey;
  const n = spec.notifications ?? {};
  const support = (spec.supportSites ?? []).map((s) => `${s.name} (${s.expiresAt ? `until ${s.expiresAt}` : 'no expiry'})`);
  const rows: Row[] = [
    ['Ocean site number', spec.siteNumber],
    ['Display name', spec.displayName ?? '-'],
    ['Kubernetes', `namespace ${site.metadata.namespace}, OceanSite ${site.metadata.name}`],
    ['Time zone', spec.timeZone ?? 'UTC'],
    ['Clinical Administrator', spec.clinicalAdminEmail ?? '-'],
    ['Also e-mailed', (n.additionalRecipients ?? []).join(', ') || '-'],
    ['E-mail on key access / errors', `${yesNo(n.emailOnKeyAccess, true)} / ${yesNo(n.emailOnError, true)}`],
    ['Shared Encryption Key in Vault', key?.path ? `${key.mount ? `${key.mount}/` : ''}${key.path}` : 'not stored yet'],
    ['SEK version / fingerprint', key?.version === undefined ? '-' : `${key.version} / ${key.fingerprint ?? '-'}`],
    ['SEK stored at', key?.storedAt ?? '-'],
    ['Sync pods run as', site.status?.serviceAccountName ? `ServiceAccount ${site.status.serviceAccountName}` : '-'],
    ['Support sites', support.join(', ') || 'none'],
  ];
  return { title: `Site ${site.metadata.name}`, rows };
}

/** The EMR section of a spec (accuro, oscarPro, …), as plain fields. */
function emrSection(i: EmrIntegration): Record<string, unknown> {
  const emr = i.spec.emr as Record<string, unknown>;
  const key = Object.keys(emr).find((k) => !['type', 'timeZone', 'caBundleSecretRef'].includes(k));
  return key ? ((emr[key] as Record<string, unknown>) ?? {}) : {};
}

function integrationSection(i: EmrIntegration, secrets: Map<string, SecretIdentifiers>, sekPath: string | undefined): Section {
  const section = emrSection(i);
  const url = section['apiUrl'] ?? section['serverUrl'] ?? section['baseUrl'];
  const ref = (section['credentialsSecretRef'] as { name?: string } | undefined)?.name;
  const secret = ref ? secrets.get(ref) : undefined;
  const rows: Row[] = [['EMR type', i.spec.emr.type]];
  if (url) rows.push(['EMR URL', String(url)]);
  if (section['tokenUrl']) rows.push(['Token URL', String(section['tokenUrl'])]);
  if (section['tenantId']) rows.push(['Accuro tenant', String(section['tenantId'])]);
  if (section['instanceId']) rows.push(['TELUS instance', String(section['instanceId'])]);
  if (i.spec.emr.timeZone) rows.push(['EMR time zone', i.spec.emr.timeZone]);
  if (ref) {
    rows.push(['Credentials Secret', `${ref} (keys: ${secret?.keys.join(', ') || '-'})${secret?.error ? ` (${secret.error})` : ''}`]);
    for (const [k, v] of Object.entries(secret?.identifiers ?? {})) rows.push([`  ${k}`, v]);
  }
  const auth = i.status?.auth;
  if (auth?.notAfter) rows.push(['Credentials expire', `${auth.notAfter}${auth.renewalTime ? ` (renew from ${auth.renewalTime})` : ''}`]);
  const relayKey = sekPath?.endsWith('/sek') ? `${sekPath.slice(0, -'/sek'.length)}/relay/${i.metadata.name}` : undefined;
  if (i.spec.emr.type !== 'None') {
    const header = i.spec.webhook?.keyHeader ?? 'Referral-Integration-API-Key';
    const version = i.status?.webhook?.keyVersion;
    rows.push([
      'Webhook API key',
      `header ${header}; in Vault at ${relayKey ?? '-'}${version === undefined ? '' : `, version ${version}`}`,
    ]);
  }
  return { title: `Integration ${i.metadata.name}`, rows };
}

function sections(input: CardInput): Section[] {
  const key = input.site.status?.encryptionKey;
  const sekPath = key?.path ? `${key.mount ? `${key.mount}/` : ''}${key.path}` : undefined;
  const mine = input.integrations
    .filter((i) => i.spec.siteRef.name === input.site.metadata.name)
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  return [siteSection(input.site), ...mine.map((i) => integrationSection(i, input.secrets, sekPath))];
}

const HEADER = 'Cloud Connect credential reference card: keep it with the clinic records. It holds no password, key or token.';

export function renderCardText(input: CardInput): string {
  const lines = [HEADER, `Printed ${input.now.toISOString()} from kubectl context ${input.context || '-'}.`, ''];
  for (const s of sections(input)) {
    lines.push(s.title);
    const width = Math.max(...s.rows.map(([l]) => l.length));
    for (const [label, value] of s.rows) lines.push(`  ${label.padEnd(width)}  ${value}`);
    lines.push('');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

const cell = (v: string) => v.replaceAll('|', '\\|');

export function renderCardMarkdown(input: CardInput): string {
  const lines = [`# ${cell(input.site.spec.displayName ?? input.site.metadata.name)}: Cloud Connect credentials`, '', `_${HEADER}_`, ''];
  lines.push(`Printed ${input.now.toISOString()} from kubectl context \`${input.context || '-'}\`.`, '');
  for (const s of sections(input)) {
    lines.push(`## ${s.title}`, '', '| | |', '|---|---|');
    for (const [label, value] of s.rows) lines.push(`| ${cell(label.trim())} | ${cell(value)} |`);
    lines.push('');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
