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
