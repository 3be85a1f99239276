// Pure: the `kubectl cloudconnect status` tree, site → integrations → schedules, with a health word
// per resource (from its conditions), authentication, and last/next sync. Colour only when asked
// (main asks when stdout is a TTY and NO_COLOR is unset).
import { styleText } from 'node:util';
import type { EmrIntegration, OceanSite, SyncSchedule } from '../../api/v1alpha1/index.ts';
import { findCondition, isTrue } from '../../runtime/conditions.ts';
import { type Health, type HealthWord, health, relativeTime } from './health.ts';

export interface StatusInput {
  namespace: string;
  sites: readonly OceanSite[];
  integrations: readonly EmrIntegration[];
  schedules: readonly SyncSchedule[];
  now: Date;
  color: boolean;
}

type Style = Parameters<typeof styleText>[0];

const WORD_STYLE: Record<HealthWord, Style> = {
  Ready: 'green',
  Suspended: 'yellow',
  Blocked: 'yellow',
  Reconciling: 'cyan',
  Pending: 'gray',
  NotReady: 'red',
  Stalled: 'red',
};

const MESSAGE_LIMIT = 160;

export function renderStatus(input: StatusInput): string {
  const paint = (style: Style, text: string) => (input.color ? styleText(style, text, { validateStream: false }) : text);
  const { now } = input;
  const lines: string[] = [`${paint('bold', 'Namespace')} ${input.namespace}`];
  if (input.sites.length + input.integrations.length + input.schedules.length === 0) {
    lines.push(`  No Cloud Connect resources (OceanSite, EmrIntegration, SyncSchedule) in namespace ${input.namespace}.`);
    return `${lines.join('\n')}\n`;
  }

  const byName = <T extends { metadata: { name: string } }>(a: T, b: T) => a.metadata.name.localeCompare(b.metadata.name);
  const siteNames = new Set(input.sites.map((s) => s.metadata.name));
  const integrationNames = new Set(input.integrations.map((i) => i.metadata.name));
  const healthText = (h: Health) => `${paint(WORD_STYLE[h.word], h.word)}${h.reason && h.reason !== h.word ? ` (${h.reason})` : ''}`;
  const message = (h: Health) => (h.word === 'Ready' || !h.message ? undefined : truncate(h.message));

  const scheduleLines = (schedules: readonly SyncSchedule[], prefix: string): string[] => {
    const out: string[] = [];
    const sorted = [...schedules].sort((a, b) => typeOrder(a) - typeOrder(b) || byName(a, b));
    sorted.forEach((s, i) => {
      const last = i === sorted.length - 1;
      const h = health(s.status?.conditions);
      const tz = s.spec.timeZone && s.spec.timeZone !== 'UTC' ? ` ${s.spec.timeZone}` : '';
      out.push(
        `${prefix}${last ? '└── ' : '├── '}${paint('bold', `SyncSchedule/${s.metadata.name}`)}  ${s.spec.type} "${s.spec.schedule}"${tz}  ${healthText(h)}${s.spec.suspend ? paint('yellow', '  suspended') : ''}`,
      );
      const child = `${prefix}${last ? '    ' : '│   '}`;
      const run = s.status?.lastRun;
      const lastText = run
        ? `last run ${run.result === 'Succeeded' ? paint('green', 'Succeeded') : paint('red', 'Failed')}${run.errorReason ? ` (${run.errorReason})` : ''} ${relativeTime(run.completionTime, now, '')}`.trimEnd()
        : 'no run yet';
      const active = s.status?.active?.length ? `  ${paint('cyan', `running: ${s.status.active.map((a) => a.name).join(', ')}`)}` : '';
      const next = s.spec.suspend ? 'next: suspended' : `next ${relativeTime(s.status?.nextScheduleTime, now, 'not scheduled')}`;
      out.push(`${child}${lastText} · last success ${relativeTime(s.status?.lastSuccessfulTime, now, 'never')} · ${next}${active}`);
      const m = message(h);
      if (m) out.push(`${child}${paint('gray', m)}`);
    });
    return out;
  };

  const integrationLines = (integrations: readonly EmrIntegration[], prefix: string, trailingOrphans: boolean): string[] => {
    const out: string[] = [];
    const sorted = [...integrations].sort(byName);
    sorted.forEach((integration, i) => {
      const last = i === sorted.length - 1 && !trailingOrphans;
      const h = health(integration.status?.conditions);
      out.push(
        `${prefix}${last ? '└── ' : '├── '}${paint('bold', `EmrIntegration/${integration.metadata.name}`)}  ${integration.spec.emr.type}  ${healthText(h)}${integration.spec.suspend ? paint('yellow', '  suspended') : ''}`,
      );
      const child = `${prefix}${last ? '    ' : '│   '}`;
      const detail = integrationDetails(integration, now, paint);
      for (const d of detail) out.push(`${child}${d}`);
      const m = message(h);
      if (m) out.push(`${child}${paint('gray', m)}`);
      const schedules = input.schedules.filter((s) => s.spec.integrationRef.name === integration.metadata.name);
      // A non-integrated site (type None) has nothing to sync, so the operator makes no default schedules.
      if (schedules.length === 0 && integration.spec.emr.type !== 'None')
        out.push(`${child}${paint('gray', '(no SyncSchedule yet: the operator creates the two defaults)')}`);
      out.push(...scheduleLines(schedules, child));
    });
    return out;
  };

  for (const site of [...input.sites].sort(byName)) {
    const h = health(site.status?.conditions);
    const key = site.status?.encryptionKey;
    const keyText = key?.fingerprint ? `  SEK v${key.version ?? '?'} ${key.fingerprint}` : paint('yellow', '  SEK not stored');
    const title = [site.spec.siteNumber ? `#${site.spec.siteNumber}` : '', site.spec.displayName ?? ''].filter(Boolean).join(' ');
    lines.push(`${paint('bold', `OceanSite/${site.metadata.name}`)}${title ? ` (${title})` : ''}  ${healthText(h)}${keyText}`);
    const m = message(h);
    if (m) lines.push(`│   ${paint('gray', m)}`);
    const integrations = input.integrations.filter((i) => i.spec.siteRef.name === site.metadata.name);
    if (integrations.length === 0) lines.push(`└── ${paint('gray', '(no EmrIntegration)')}`);
    lines.push(...integrationLines(integrations, '', false));
  }

  const orphanIntegrations = input.integrations.filter((i) => !siteNames.has(i.spec.siteRef.name));
  for (const siteName of [...new Set(orphanIntegrations.map((i) => i.spec.siteRef.name))].sort()) {
    lines.push(`${paint('bold', `OceanSite/${siteName}`)}  ${paint('red', 'NotFound')}`);
    lines.push(
      ...integrationLines(
        orphanIntegrations.filter((i) => i.spec.siteRef.name === siteName),
        '',
        false,
      ),
    );
  }
  const orphanSchedules = input.schedules.filter((s) => !integrationNames.has(s.spec.integrationRef.name));
  for (const integrationName of [...new Set(orphanSchedules.map((s) => s.spec.integrationRef.name))].sort()) {
    lines.push(`${paint('bold', `EmrIntegration/${integrationName}`)}  ${paint('red', 'NotFound')}`);
    lines.push(
      ...scheduleLines(
        orphanSchedules.filter((s) => s.spec.integrationRef.name === integrationName),
        '',
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}

function integrationDetails(integration: EmrIntegration, now: Date, paint: (style: Style, text: string) => string): string[] {
  const status = integration.status ?? {};
  const conditions = status.conditions;
  const out: string[] = [];
  if (integration.spec.emr.type !== 'None') {
    const auth = findCondition(conditions, 'Authenticated');
    const parts: string[] = [];
    if (!auth) parts.push(paint('gray', 'auth not checked yet'));
    else if (auth.status === 'True') parts.push(paint('green', 'Authenticated'));
    else parts.push(`${paint('red', 'not Authenticated')}${auth.reason ? ` (${auth.reason})` : ''}`);
    if (status.auth?.notAfter) {
      const expiring = isTrue(conditions, 'AuthExpiringSoon');
      const text = `expires ${relativeTime(status.auth.notAfter, now, '')}`;
      parts.push(expiring ? paint('yellow', `${text} (AuthExpiringSoon)`) : text);
    }
    if (status.auth?.lastCheckTime) parts.push(`checked ${relativeTime(status.auth.lastCheckTime, now, '')}`);
    out.push(`auth: ${parts.join(' · ')}`);
  }
  const warnings: string[] = [];
  if (isTrue(conditions, 'CredentialConflict')) warnings.push('CredentialConflict');
  if (isTrue(conditions, 'AttachmentsImportDisabled')) warnings.push('AttachmentsImportDisabled');
  const missing = status.providers?.missing ?? [];
  if (missing.length > 0) warnings.push(`providers not visible to the API user: ${missing.join(', ')}`);
  if (warnings.length > 0) out.push(paint('yellow', `warnings: ${warnings.join(' · ')}`));
  const delivering = findCondition(conditions, 'Delivering');
  const relay = status.relay;
  if (delivering || relay) {
    const parts: string[] = [];
    if (delivering)
      parts.push(
        delivering.status === 'True'
          ? paint('green', delivering.reason ?? 'Delivering')
          : paint(delivering.status === 'False' ? 'red' : 'gray', `not delivering (${delivering.reason ?? 'Unknown'})`),
      );
    if (relay?.pending) parts.push(`${relay.pending} pending${relay.oldestPendingAge ? ` (oldest ${relay.oldestPendingAge})` : ''}`);
    if (relay?.deadLettered) parts.push(paint('red', `${relay.deadLettered} dead-lettered`));
    if (relay?.lastFailureReason) parts.push(`last failure ${relay.lastFailureReason}`);
    out.push(`relay: ${parts.join(' · ')}`);
  }
  const sync = status.sync ?? {};
  if (integration.spec.emr.type === 'None' && !sync.lastSyncTime && !sync.nextSyncTime) return out;
  const lastError = sync.lastError ? ` · ${paint('red', `last error ${sync.lastError}`)}` : '';
  out.push(
    `sync: last ${relativeTime(sync.lastSyncTime, now, 'never')} · next ${relativeTime(sync.nextSyncTime, now, 'not scheduled')}${lastError}`,
  );
  return out;
}

function typeOrder(s: SyncSchedule): number {
  return s.spec.type === 'Full' ? 0 : 1;
}

function truncate(text: string): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > MESSAGE_LIMIT ? `${one.slice(0, MESSAGE_LIMIT - 1)}…` : one;
}

export type AllNamespacesInput = Omit<StatusInput, 'namespace'>;

/** A table cell: `text` (coloured with `style` when colour is on) followed by a plain `suffix`. */
interface Cell {
  text: string;
  style?: Style;
  suffix?: string;
}

type Kind = 'OceanSite' | 'EmrIntegration' | 'SyncSchedule';
const KIND_ORDER: readonly Kind[] = ['OceanSite', 'EmrIntegration', 'SyncSchedule'];
const TABLE_HEADER = ['NAMESPACE', 'KIND', 'NAME', 'HEALTH', 'LAST SYNC', 'NEXT SYNC', 'DETAIL'];
const COLUMN_GAP = 3;

/**
 * The fleet view (`status -A`): one row per OceanSite, EmrIntegration and SyncSchedule of every
 * namespace, as a kubectl table (NAMESPACE first, columns padded to the widest cell and three spaces
 * apart), sorted by namespace, then kind (site, integration, schedule), then name. Condition
 * messages are left to the per-namespace tree.
 */
export function renderStatusAllNamespaces(input: AllNamespacesInput): string {
  const { now } = input;
  if (input.sites.length + input.integrations.length + input.schedules.length === 0) {
    return 'No Cloud Connect resources (OceanSite, EmrIntegration, SyncSchedule) in any namespace.\n';
  }
  const key = (kind: Kind, namespace: string, name: string) => JSON.stringify([kind, namespace, name]);
  const existing = new Set([
    ...input.sites.map((s) => key('OceanSite', s.metadata.namespace ?? '', s.metadata.name)),
    ...input.integrations.map((i) => key('EmrIntegration', i.metadata.namespace ?? '', i.metadata.name)),
  ]);
  const reference = (kind: Kind, namespace: string, name: string, label: string) =>
    existing.has(key(kind, namespace, name)) ? `${label} ${name}` : `${label} ${name} (not found)`;

  const rows: { namespace: string; kind: Kind; name: string; cells: Cell[] }[] = [];
  for (const site of input.sites) {
    const sek = site.status?.encryptionKey;
    const title = [site.spec.siteNumber ? `#${site.spec.siteNumber}` : '', site.spec.displayName ?? ''].filter(Boolean).join(' ');
    const sekText = sek?.fingerprint ? `SEK v${sek.version ?? '?'} ${sek.fingerprint}` : 'SEK not stored';
    rows.push({
      namespace: site.metadata.namespace ?? '',
      kind: 'OceanSite',
      name: site.metadata.name,
      cells: [healthCell(site.status?.conditions), { text: '-' }, { text: '-' }, { text: [title, sekText].filter(Boolean).join(' · ') }],
    });
  }
  for (const integration of input.integrations) {
    const namespace = integration.metadata.namespace ?? '';
    const sync = integration.status?.sync ?? {};
    const nothingToSync = integration.spec.emr.type === 'None' && !sync.lastSyncTime;
    rows.push({
      namespace,
      kind: 'EmrIntegration',
      name: integration.metadata.name,
      cells: [
        healthCell(integration.status?.conditions),
        { text: nothingToSync ? '-' : relativeTime(sync.lastSyncTime, now, 'never') },
        { text: nothingToSync ? '-' : nextSyncText(integration.spec.suspend === true, sync.nextSyncTime, now) },
        { text: `${integration.spec.emr.type} · ${reference('OceanSite', namespace, integration.spec.siteRef.name, 'site')}` },
      ],
    });
  }
  for (const schedule of input.schedules) {
    const namespace = schedule.metadata.namespace ?? '';
    const tz = schedule.spec.timeZone && schedule.spec.timeZone !== 'UTC' ? ` ${schedule.spec.timeZone}` : '';
    const active = schedule.status?.active?.length ? ` · running: ${schedule.status.active.map((a) => a.name).join(', ')}` : '';
    const integrationRef = reference('EmrIntegration', namespace, schedule.spec.integrationRef.name, 'integration');
    rows.push({
      namespace,
      kind: 'SyncSchedule',
      name: schedule.metadata.name,
      cells: [
        healthCell(schedule.status?.conditions),
        lastRunCell(schedule.status?.lastRun, now),
        { text: nextSyncText(schedule.spec.suspend === true, schedule.status?.nextScheduleTime, now) },
        { text: `${schedule.spec.type} "${schedule.spec.schedule}"${tz} · ${integrationRef}${active}` },
      ],
    });
  }
  rows.sort(
    (a, b) =>
      a.namespace.localeCompare(b.namespace) || KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || a.name.localeCompare(b.name),
  );

  const table: Cell[][] = [
    TABLE_HEADER.map((text) => ({ text })),
    ...rows.map((r) => [{ text: r.namespace }, { text: r.kind }, { text: r.name }, ...r.cells]),
  ];
  const widths = TABLE_HEADER.map((_, column) => Math.max(...table.map((row) => cellLength(row[column]))));
  const paint = (cell: Cell) => {
    const text = input.color && cell.style ? styleText(cell.style, cell.text, { validateStream: false }) : cell.text;
    return `${text}${cell.suffix ?? ''}`;
  };
  const line = (row: Cell[]) =>
    row
      .map((cell, column) => {
        if (column === row.length - 1) return paint(cell);
        return paint(cell) + ' '.repeat((widths[column] ?? 0) - cellLength(cell) + COLUMN_GAP);
      })
      .join('')
      .trimEnd();
  return `${table.map(line).join('\n')}\n`;
}

function cellLength(cell: Cell | undefined): number {
  return cell ? cell.text.length + (cell.suffix?.length ?? 0) : 0;
}

/** The health word (coloured) and, when it says more, the reason: "NotReady (EmrUnreachable)". */
function healthCell(conditions: Parameters<typeof health>[0]): Cell {
  const h = health(conditions);
  return { text: h.word, style: WORD_STYLE[h.word], suffix: h.reason && h.reason !== h.word ? ` (${h.reason})` : '' };
}

function lastRunCell(run: NonNullable<SyncSchedule['status']>['lastRun'], now: Date): Cell {
  if (!run) return { text: 'never' };
  const reason = run.errorReason ? ` (${run.errorReason})` : '';
  const when = relativeTime(run.completionTime, now, '');
  return {
    text: run.result,
    style: run.result === 'Succeeded' ? 'green' : 'red',
    suffix: `${reason}${when ? ` ${when}` : ''}`,
  };
}

function nextSyncText(suspended: boolean, next: string | undefined, now: Date): string {
  if (suspended) return 'suspended';
  return relativeTime(next, now, '-');
}
