// Pure: the `kubectl cloudconnect status` tree, site → integrations → schedules, with a health word
// per resource (from its conditions), authentication, and last/next sync. Colour only when asked
// (main asks when stdout is a TTY and NO_COLOR is unset).
import { styleText } from 'node:util';
import { type EmrIntegration, type OceanSite, type SyncSchedule, scheduleTarget } from '../../api/v1alpha1/index.ts';
import { type Condition, findCondition, isTrue } from '../../runtime/conditions.ts';
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
type LastRun = NonNullable<NonNullable<SyncSchedule['status']>['lastRun']>;

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

type Paint = (style: Style, text: string) => string;

/** What every line of the tree needs: colour (or not), the clock, and the schedules to hang under their integrations. */
interface TreeContext {
  paint: Paint;
  now: Date;
  schedules: readonly SyncSchedule[];
}

export function renderStatus(input: StatusInput): string {
  const paint: Paint = (style, text) => (input.color ? styleText(style, text, { validateStream: false }) : text);
  const header = `${paint('bold', 'Namespace')} ${input.namespace}`;
  if (hasNoResources(input)) {
    return `${header}\n  No Cloud Connect resources (OceanSite, EmrIntegration, SyncSchedule) in namespace ${input.namespace}.\n`;
  }
  const ctx: TreeContext = { paint, now: input.now, schedules: input.schedules };
  const lines = [
    header,
    ...[...input.sites].sort(byName).flatMap((site) => siteLines(site, input.integrations, ctx)),
    ...missingSiteLines(input, ctx),
    ...missingIntegrationLines(input, ctx),
  ];
  return `${lines.join('\n')}\n`;
}

function hasNoResources(input: AllNamespacesInput): boolean {
  return input.sites.length + input.integrations.length + input.schedules.length === 0;
}

function byName<T extends { metadata: { name: string } }>(a: T, b: T): number {
  return a.metadata.name.localeCompare(b.metadata.name);
}

const siteOf = (integration: EmrIntegration): string => integration.spec.siteRef.name;
/** The integration an integration's schedule runs for; undefined for a site's reminders (spec.siteRef). */
const integrationOf = (schedule: SyncSchedule): string | undefined => schedule.spec.integrationRef?.name;
/** The site a site's reminders schedule (spec.siteRef) runs for; undefined for an integration's schedule. */
const siteScheduleOf = (schedule: SyncSchedule): string | undefined => schedule.spec.siteRef?.name;

/**
 * Each item's lines under `prefix`: `render` gets the item's branch ("├── ", or "└── " for the
 * last) and the prefix of its children ("│   ", or blank under the last).
 */
function branches<T>(items: readonly T[], prefix: string, render: (item: T, branch: string, child: string) => string[]): string[] {
  return items.flatMap((item, i) => {
    const last = i === items.length - 1;
    return render(item, `${prefix}${last ? '└── ' : '├── '}`, `${prefix}${last ? '    ' : '│   '}`);
  });
}

/** The health word (coloured) and, when it says more, the reason: "NotReady (EmrUnreachable)". */
function healthText(h: Health, paint: Paint): string {
  return `${paint(WORD_STYLE[h.word], h.word)}${reasonSuffix(h)}`;
}

/** " (EmrUnreachable)" after the health word, when the reason says more than the word. */
function reasonSuffix(h: Health): string {
  return h.reason && h.reason !== h.word ? ` (${h.reason})` : '';
}

/** The condition message, on its own line under the resource, unless it is Ready or says nothing. */
function messageLines(h: Health, prefix: string, paint: Paint): string[] {
  return h.word === 'Ready' || !h.message ? [] : [`${prefix}${paint('gray', truncate(h.message))}`];
}

function suspendedMark(suspend: boolean | undefined, paint: Paint): string {
  return suspend ? paint('yellow', '  suspended') : '';
}

/** "#4271 Maple FHT", either part when set. */
function siteTitle(site: OceanSite): string {
  return [site.spec.siteNumber ? `#${site.spec.siteNumber}` : '', site.spec.displayName ?? ''].filter(Boolean).join(' ');
}

/** "SEK v3 a1b2…", or undefined when no key is stored. */
function sekText(site: OceanSite): string | undefined {
  const key = site.status?.encryptionKey;
  return key?.fingerprint ? `SEK v${key.version ?? '?'} ${key.fingerprint}` : undefined;
}

/** " America/Toronto" for a schedule not in UTC, else nothing. */
function timeZoneSuffix(schedule: SyncSchedule): string {
  return schedule.spec.timeZone && schedule.spec.timeZone !== 'UTC' ? ` ${schedule.spec.timeZone}` : '';
}

/** The Jobs a schedule is running now, comma-separated; undefined when none. */
function runningJobs(schedule: SyncSchedule): string | undefined {
  return schedule.status?.active?.length ? schedule.status.active.map((a) => a.name).join(', ') : undefined;
}

function siteLines(site: OceanSite, integrations: readonly EmrIntegration[], ctx: TreeContext): string[] {
  const { paint } = ctx;
  const h = health(site.status?.conditions);
  const title = siteTitle(site);
  const sek = sekText(site);
  const lines = [
    `${paint('bold', `OceanSite/${site.metadata.name}`)}${title ? ` (${title})` : ''}  ${healthText(h, paint)}${sek ? `  ${sek}` : paint('yellow', '  SEK not stored')}`,
    ...messageLines(h, '│   ', paint),
  ];
  const own = integrations.filter((i) => siteOf(i) === site.metadata.name);
  const siteSchedules = ctx.schedules.filter((s) => siteScheduleOf(s) === site.metadata.name);
  if (own.length === 0) lines.push(`${siteSchedules.length ? '├── ' : '└── '}${paint('gray', '(no EmrIntegration)')}`);
  lines.push(...siteChildLines(own, siteSchedules, '', ctx));
  return lines;
}

/** A site's integrations, then the reminders schedules that run for the site itself (spec.siteRef). */
function siteChildLines(
  integrations: readonly EmrIntegration[],
  schedules: readonly SyncSchedule[],
  prefix: string,
  ctx: TreeContext,
): string[] {
  const children: Array<{ integration: EmrIntegration } | { schedule: SyncSchedule }> = [
    ...[...integrations].sort(byName).map((integration) => ({ integration })),
    ...sortedSchedules(schedules).map((schedule) => ({ schedule })),
  ];
  return branches(children, prefix, (child, branch, under) =>
    'integration' in child ? integrationBranch(child.integration, branch, under, ctx) : scheduleBranch(child.schedule, branch, under, ctx),
  );
}

function integrationBranch(integration: EmrIntegration, branch: string, child: string, ctx: TreeContext): string[] {
  const { paint } = ctx;
  const h = health(integration.status?.conditions);
  const type = integration.spec.emr.type;
  const lines = [
    `${branch}${paint('bold', `EmrIntegration/${integration.metadata.name}`)}  ${type}  ${healthText(h, paint)}${suspendedMark(integration.spec.suspend, paint)}`,
    ...integrationDetails(integration, ctx.now, paint).map((d) => `${child}${d}`),
    ...messageLines(h, child, paint),
  ];
  const schedules = ctx.schedules.filter((s) => integrationOf(s) === integration.metadata.name);
  // A non-integrated site (type None) has nothing to sync, so the operator makes no default schedules.
  if (schedules.length === 0 && type !== 'None')
    lines.push(`${child}${paint('gray', '(no SyncSchedule yet: the operator creates the two defaults)')}`);
  lines.push(...scheduleLines(schedules, child, ctx));
  return lines;
}

function sortedSchedules(schedules: readonly SyncSchedule[]): SyncSchedule[] {
  return [...schedules].sort((a, b) => typeOrder(a) - typeOrder(b) || byName(a, b));
}

function scheduleLines(schedules: readonly SyncSchedule[], prefix: string, ctx: TreeContext): string[] {
  return branches(sortedSchedules(schedules), prefix, (schedule, branch, child) => scheduleBranch(schedule, branch, child, ctx));
}

function scheduleBranch(s: SyncSchedule, branch: string, child: string, ctx: TreeContext): string[] {
  const { paint, now } = ctx;
  const h = health(s.status?.conditions);
  const running = runningJobs(s);
  const active = running === undefined ? '' : `  ${paint('cyan', `running: ${running}`)}`;
  const next = s.spec.suspend ? 'next: suspended' : `next ${relativeTime(s.status?.nextScheduleTime, now, 'not scheduled')}`;
  return [
    `${branch}${paint('bold', `SyncSchedule/${s.metadata.name}`)}  ${s.spec.type} "${s.spec.schedule}"${timeZoneSuffix(s)}  ${healthText(h, paint)}${suspendedMark(s.spec.suspend, paint)}`,
    `${child}${lastRunText(s.status?.lastRun, now, paint)} · last success ${relativeTime(s.status?.lastSuccessfulTime, now, 'never')} · ${next}${active}`,
    ...messageLines(h, child, paint),
  ];
}

function lastRunText(run: LastRun | undefined, now: Date, paint: Paint): string {
  if (!run) return 'no run yet';
  const result = run.result === 'Succeeded' ? paint('green', 'Succeeded') : paint('red', 'Failed');
  const reminders = run.sent === undefined ? '' : ` · sent ${run.sent}, skipped ${run.skipped ?? 0}, failed ${run.failed ?? 0}`;
  return (
    `last run ${result}${run.errorReason ? ` (${run.errorReason})` : ''} ${relativeTime(run.completionTime, now, '')}`.trimEnd() + reminders
  );
}

/**
 * Children whose parent does not exist, under one "Kind/name  NotFound" line per missing parent
 * (parents in code-unit order).
 */
function missingParentLines<T>(
  kind: string,
  orphans: readonly T[],
  parentOf: (item: T) => string,
  render: (children: T[]) => string[],
  paint: Paint,
): string[] {
  return [...new Set(orphans.map(parentOf))]
    .sort()
    .flatMap((parent) => [
      `${paint('bold', `${kind}/${parent}`)}  ${paint('red', 'NotFound')}`,
      ...render(orphans.filter((o) => parentOf(o) === parent)),
    ]);
}

function missingSiteLines(input: StatusInput, ctx: TreeContext): string[] {
  const siteNames = new Set(input.sites.map((s) => s.metadata.name));
  const missing = (site: string | undefined): site is string => site !== undefined && !siteNames.has(site);
  const orphans: Array<EmrIntegration | SyncSchedule> = [
    ...input.integrations.filter((i) => missing(siteOf(i))),
    ...input.schedules.filter((s) => missing(siteScheduleOf(s))),
  ];
  const parentOf = (o: EmrIntegration | SyncSchedule) => (isSchedule(o) ? (siteScheduleOf(o) ?? '') : siteOf(o));
  return missingParentLines(
    'OceanSite',
    orphans,
    parentOf,
    (children) => siteChildLines(children.filter(isIntegration), children.filter(isSchedule), '', ctx),
    ctx.paint,
  );
}

/** A schedule has no spec.emr (list items need not carry `kind`). */
const isSchedule = (o: EmrIntegration | SyncSchedule): o is SyncSchedule => !('emr' in o.spec);
const isIntegration = (o: EmrIntegration | SyncSchedule): o is EmrIntegration => !isSchedule(o);

function missingIntegrationLines(input: StatusInput, ctx: TreeContext): string[] {
  const integrationNames = new Set(input.integrations.map((i) => i.metadata.name));
  const orphans = input.schedules.filter((s) => {
    const integration = integrationOf(s);
    return integration !== undefined && !integrationNames.has(integration);
  });
  const parentOf = (s: SyncSchedule) => integrationOf(s) ?? '';
  return missingParentLines('EmrIntegration', orphans, parentOf, (children) => scheduleLines(children, '', ctx), ctx.paint);
}

/** The lines under an integration: auth, warnings, relay and sync, each when it has something to say. */
function integrationDetails(integration: EmrIntegration, now: Date, paint: Paint): string[] {
  return [
    authLine(integration, now, paint),
    warningsLine(integration, paint),
    relayLine(integration, paint),
    syncLine(integration, now, paint),
  ].filter((line): line is string => line !== undefined);
}

function authLine(integration: EmrIntegration, now: Date, paint: Paint): string | undefined {
  if (integration.spec.emr.type === 'None') return undefined;
  const status = integration.status ?? {};
  const conditions = status.conditions;
  const parts = [authenticatedText(findCondition(conditions, 'Authenticated'), paint)];
  if (status.auth?.notAfter) {
    const text = `expires ${relativeTime(status.auth.notAfter, now, '')}`;
    parts.push(isTrue(conditions, 'AuthExpiringSoon') ? paint('yellow', `${text} (AuthExpiringSoon)`) : text);
  }
  if (status.auth?.lastCheckTime) parts.push(`checked ${relativeTime(status.auth.lastCheckTime, now, '')}`);
  return `auth: ${parts.join(' · ')}`;
}

function authenticatedText(auth: Condition | undefined, paint: Paint): string {
  if (!auth) return paint('gray', 'auth not checked yet');
  if (auth.status === 'True') return paint('green', 'Authenticated');
  return `${paint('red', 'not Authenticated')}${auth.reason ? ` (${auth.reason})` : ''}`;
}

/** Conditions that are warnings when True, in the order they are listed. */
const WARNING_CONDITIONS = ['CredentialConflict', 'AttachmentsImportDisabled'] as const;

function warningsLine(integration: EmrIntegration, paint: Paint): string | undefined {
  const status = integration.status ?? {};
  const warnings: string[] = WARNING_CONDITIONS.filter((type) => isTrue(status.conditions, type));
  const missing = status.providers?.missing ?? [];
  if (missing.length > 0) warnings.push(`providers not visible to the API user: ${missing.join(', ')}`);
  return warnings.length > 0 ? paint('yellow', `warnings: ${warnings.join(' · ')}`) : undefined;
}

function relayLine(integration: EmrIntegration, paint: Paint): string | undefined {
  const delivering = findCondition(integration.status?.conditions, 'Delivering');
  const relay = integration.status?.relay;
  if (!delivering && !relay) return undefined;
  const parts: string[] = [];
  if (delivering) parts.push(deliveringText(delivering, paint));
  if (relay?.pending) parts.push(`${relay.pending} pending${relay.oldestPendingAge ? ` (oldest ${relay.oldestPendingAge})` : ''}`);
  if (relay?.deadLettered) parts.push(paint('red', `${relay.deadLettered} dead-lettered`));
  if (relay?.lastFailureReason) parts.push(`last failure ${relay.lastFailureReason}`);
  return `relay: ${parts.join(' · ')}`;
}

function deliveringText(delivering: Condition, paint: Paint): string {
  if (delivering.status === 'True') return paint('green', delivering.reason ?? 'Delivering');
  return paint(delivering.status === 'False' ? 'red' : 'gray', `not delivering (${delivering.reason ?? 'Unknown'})`);
}

function syncLine(integration: EmrIntegration, now: Date, paint: Paint): string | undefined {
  const sync = integration.status?.sync ?? {};
  if (integration.spec.emr.type === 'None' && !sync.lastSyncTime && !sync.nextSyncTime) return undefined;
  const lastError = sync.lastError ? ` · ${paint('red', `last error ${sync.lastError}`)}` : '';
  return `sync: last ${relativeTime(sync.lastSyncTime, now, 'never')} · next ${relativeTime(sync.nextSyncTime, now, 'not scheduled')}${lastError}`;
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
  if (hasNoResources(input)) {
    return 'No Cloud Connect resources (OceanSite, EmrIntegration, SyncSchedule) in any namespace.\n';
  }
  const exists = existence(input);
  const rows = [
    ...input.sites.map(siteRow),
    ...input.integrations.map((integration) => integrationRow(integration, input.now, exists)),
    ...input.schedules.map((schedule) => scheduleRow(schedule, input.now, exists)),
  ].sort(byNamespaceKindName);
  return renderTable(
    [TABLE_HEADER.map((text) => ({ text })), ...rows.map((r) => [{ text: r.namespace }, { text: r.kind }, { text: r.name }, ...r.cells])],
    input.color,
  );
}

/** One row of the fleet table: the resource and its cells after NAMESPACE, KIND and NAME. */
interface Row {
  namespace: string;
  kind: Kind;
  name: string;
  cells: Cell[];
}

/** Whether an OceanSite or EmrIntegration of that name exists in that namespace. */
type Exists = (kind: Kind, namespace: string, name: string) => boolean;

function existence(input: AllNamespacesInput): Exists {
  const key = (kind: Kind, namespace: string, name: string) => JSON.stringify([kind, namespace, name]);
  const existing = new Set([
    ...input.sites.map((s) => key('OceanSite', s.metadata.namespace ?? '', s.metadata.name)),
    ...input.integrations.map((i) => key('EmrIntegration', i.metadata.namespace ?? '', i.metadata.name)),
  ]);
  return (kind, namespace, name) => existing.has(key(kind, namespace, name));
}

/** "site maple", or "site maple (not found)" when it does not exist. */
function reference(label: string, name: string, found: boolean): string {
  return found ? `${label} ${name}` : `${label} ${name} (not found)`;
}

function byNamespaceKindName(a: Row, b: Row): number {
  return a.namespace.localeCompare(b.namespace) || KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || a.name.localeCompare(b.name);
}

/** What a row needs of a resource: where it is, and its conditions for the HEALTH cell. */
interface Resource {
  metadata: { namespace?: string | undefined; name: string };
  status?: { conditions?: Parameters<typeof health>[0] } | undefined;
}

/** The resource's row: NAMESPACE, KIND, NAME, HEALTH, then `cells` (LAST SYNC, NEXT SYNC, DETAIL). */
function row(kind: Kind, resource: Resource, cells: Cell[]): Row {
  const { metadata, status } = resource;
  return { namespace: metadata.namespace ?? '', kind, name: metadata.name, cells: [healthCell(status?.conditions), ...cells] };
}

function siteRow(site: OceanSite): Row {
  const detail = [siteTitle(site), sekText(site) ?? 'SEK not stored'].filter(Boolean).join(' · ');
  return row('OceanSite', site, [{ text: '-' }, { text: '-' }, { text: detail }]);
}

function integrationRow(integration: EmrIntegration, now: Date, exists: Exists): Row {
  const namespace = integration.metadata.namespace ?? '';
  const sync = integration.status?.sync ?? {};
  const nothingToSync = integration.spec.emr.type === 'None' && !sync.lastSyncTime;
  const site = siteOf(integration);
  return row('EmrIntegration', integration, [
    { text: nothingToSync ? '-' : relativeTime(sync.lastSyncTime, now, 'never') },
    { text: nothingToSync ? '-' : nextSyncText(integration.spec.suspend === true, sync.nextSyncTime, now) },
    { text: `${integration.spec.emr.type} · ${reference('site', site, exists('OceanSite', namespace, site))}` },
  ]);
}

function scheduleRow(schedule: SyncSchedule, now: Date, exists: Exists): Row {
  const namespace = schedule.metadata.namespace ?? '';
  const running = runningJobs(schedule);
  const active = running === undefined ? '' : ` · running: ${running}`;
  const target = scheduleTarget(schedule.spec);
  const integrationRef =
    target.kind === 'OceanSite'
      ? reference('site', target.name, exists('OceanSite', namespace, target.name))
      : reference('integration', target.name, exists('EmrIntegration', namespace, target.name));
  return row('SyncSchedule', schedule, [
    lastRunCell(schedule.status?.lastRun, now),
    { text: nextSyncText(schedule.spec.suspend === true, schedule.status?.nextScheduleTime, now) },
    { text: `${schedule.spec.type} "${schedule.spec.schedule}"${timeZoneSuffix(schedule)} · ${integrationRef}${active}` },
  ]);
}

/** kubectl's table layout: every column but the last padded to its widest cell plus COLUMN_GAP, trailing spaces dropped. */
function renderTable(table: Cell[][], color: boolean): string {
  const widths = (table[0] ?? []).map((_, column) => Math.max(...table.map((row) => cellLength(row[column]))));
  const paint = (cell: Cell) =>
    `${color && cell.style ? styleText(cell.style, cell.text, { validateStream: false }) : cell.text}${cell.suffix ?? ''}`;
  const pad = (cell: Cell, column: number) => ' '.repeat((widths[column] ?? 0) - cellLength(cell) + COLUMN_GAP);
  const line = (row: Cell[]) =>
    row
      .map((cell, column) => (column === row.length - 1 ? paint(cell) : paint(cell) + pad(cell, column)))
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
  return { text: h.word, style: WORD_STYLE[h.word], suffix: reasonSuffix(h) };
}

function lastRunCell(run: LastRun | undefined, now: Date): Cell {
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
