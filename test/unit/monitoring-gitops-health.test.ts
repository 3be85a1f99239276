// GitOps health of the operator's resources, on statuses built by the operator's own condition code
// (setConditions, summarizeReady, decideAuth) with the reasons its reconcilers write:
// - the Argo CD health check (charts/cloudconnect-operator/files/argocd-health.lua) run by Debian's
//   lua5.4 through test/monitoring/argocd-health-harness.lua, as Argo CD runs it (`obj` global);
// - kstatus (what Flux's health checks and `kubectl`-based waiters use), by its documented rules for
//   custom resources (sigs.k8s.io/cli-utils/pkg/kstatus, checkGenericProperties).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type AuthFailureReason, decideAuth } from '../../operator/controller/emrintegration/auth-decision.ts';
import { fixedClock } from '../../operator/runtime/clock.ts';
import { type Condition, type ConditionInput, setConditions, summarizeReady } from '../../operator/runtime/conditions.ts';

const root = join(import.meta.dirname, '..', '..');
const clock = fixedClock('2026-11-28T12:00:00Z');
const now = clock.now();

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; generation?: number; deletionTimestamp?: string };
  status?: { observedGeneration?: number; conditions?: Condition[] };
}

/** An object whose status the operator wrote for `observed` (default: its generation) with these conditions. */
function resource(kind: string, conditions: ConditionInput[] | undefined, generation = 1, observed = generation): Obj {
  return {
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind,
    metadata: { name: 'x', namespace: 'clinic', generation },
    ...(conditions ? { status: { observedGeneration: observed, conditions: setConditions(undefined, conditions, observed, clock) } } : {}),
  };
}

const ok = (type: string, reason: string): ConditionInput => ({ type, status: 'True', reason, message: '' });
const stall = (reason: string): ConditionInput => ({ type: 'Stalled', status: 'True', reason, message: `${reason} (spec must change)` });

/** EmrIntegration conditions from an auth check, as its reconciler composes them. */
function integration(check: Parameters<typeof decideAuth>[0]['check'], suspend = false): ConditionInput[] {
  const d = decideAuth({ check, previous: undefined, now, checkIntervalMs: 3600_000, random: 0.5 });
  return [
    d.authenticated,
    d.expiringSoon,
    summarizeReady([d.authenticated], undefined, { reason: suspend ? 'Suspended' : 'Succeeded', message: 'Authenticated with the EMR' }),
  ];
}
const failing = (reason: AuthFailureReason) => integration({ ok: false, at: now, reason, message: `${reason} detail` });

type Argo = 'Healthy' | 'Progressing' | 'Degraded' | 'Suspended';
type Kstatus = 'Current' | 'InProgress' | 'Failed' | 'Terminating';

const cases: { name: string; obj: Obj; argo: Argo; kstatus: Kstatus }[] = [
  {
    name: 'an OceanSite with its SEK stored is Healthy and Current',
    obj: resource('OceanSite', [ok('KeyStored', 'Stored'), ok('Ready', 'Succeeded')]),
    argo: 'Healthy',
    kstatus: 'Current',
  },
  {
    name: 'an OceanSite naming an unknown Vault mount is Degraded and Failed',
    obj: resource('OceanSite', [
      stall('UnknownVaultMount'),
      { type: 'KeyStored', status: 'False', reason: 'UnknownVaultMount', message: '' },
      summarizeReady([], stall('UnknownVaultMount'), { reason: '', message: '' }),
    ]),
    argo: 'Degraded',
    kstatus: 'Failed',
  },
  {
    name: 'an OceanSite waiting for Vault is Progressing (kstatus: Current, the operator sets no Reconciling)',
    obj: resource('OceanSite', [
      { type: 'KeyStored', status: 'Unknown', reason: 'VaultUnavailable', message: 'Vault is unavailable' },
      summarizeReady([{ type: 'KeyStored', status: 'Unknown', reason: 'VaultUnavailable', message: '' }], undefined, {
        reason: '',
        message: '',
      }),
    ]),
    argo: 'Progressing',
    kstatus: 'Current',
  },
  {
    name: 'an authenticated EmrIntegration is Healthy',
    obj: resource('EmrIntegration', integration({ ok: true, at: now, notAfter: new Date(now.getTime() + 30 * 86_400_000) })),
    argo: 'Healthy',
    kstatus: 'Current',
  },
  {
    name: 'a suspended EmrIntegration is Suspended',
    obj: resource('EmrIntegration', integration({ ok: true, at: now }, true)),
    argo: 'Suspended',
    kstatus: 'Current',
  },
  {
    name: 'a deauthorized EmrIntegration is Degraded',
    obj: resource('EmrIntegration', failing('Deauthorized')),
    argo: 'Degraded',
    kstatus: 'Current',
  },
  {
    name: 'an EmrIntegration with wrong credentials is Degraded',
    obj: resource('EmrIntegration', failing('InvalidCredentials')),
    argo: 'Degraded',
    kstatus: 'Current',
  },
  {
    name: 'an EmrIntegration without its credentials Secret is Degraded',
    obj: resource('EmrIntegration', failing('SecretNotFound')),
    argo: 'Degraded',
    kstatus: 'Current',
  },
  {
    name: 'an EmrIntegration whose EMR does not answer is Progressing (it retries by itself)',
    obj: resource('EmrIntegration', failing('EmrUnreachable')),
    argo: 'Progressing',
    kstatus: 'Current',
  },
  {
    name: 'an EmrIntegration whose EMR URL the operator does not allow is Degraded',
    obj: resource('EmrIntegration', failing('EndpointNotAllowed')),
    argo: 'Degraded',
    kstatus: 'Current',
  },
  {
    name: 'an EmrIntegration whose EMR answers more than the size cap is Degraded',
    obj: resource('EmrIntegration', failing('ResponseTooLarge')),
    argo: 'Degraded',
    kstatus: 'Current',
  },
  {
    name: 'an EmrIntegration whose EMR answers too slowly is Progressing (it retries by itself)',
    obj: resource('EmrIntegration', failing('EndpointTimeout')),
    argo: 'Progressing',
    kstatus: 'Current',
  },
  {
    name: 'an EmrIntegration waiting for its site is Progressing',
    obj: resource('EmrIntegration', failing('SiteNotReady')),
    argo: 'Progressing',
    kstatus: 'Current',
  },
  {
    name: 'a scheduled SyncSchedule is Healthy',
    obj: resource('SyncSchedule', [ok('Ready', 'Scheduled')]),
    argo: 'Healthy',
    kstatus: 'Current',
  },
  {
    name: 'a SyncSchedule blocked by its integration is Progressing',
    obj: resource('SyncSchedule', [
      { type: 'Ready', status: 'False', reason: 'IntegrationNotReady', message: 'Blocked' },
      { type: 'Stalled', status: 'False', reason: 'Valid', message: '' },
    ]),
    argo: 'Progressing',
    kstatus: 'Current',
  },
  {
    name: 'a SyncSchedule with an invalid cron is Degraded and Failed',
    obj: resource('SyncSchedule', [
      stall('InvalidSchedule'),
      { type: 'Ready', status: 'False', reason: 'InvalidSchedule', message: 'spec.schedule must have 5 fields' },
    ]),
    argo: 'Degraded',
    kstatus: 'Failed',
  },
  {
    name: 'a Ready resource whose new generation is not yet observed is Progressing and InProgress',
    obj: resource('SyncSchedule', [ok('Ready', 'Scheduled')], 3, 2),
    argo: 'Progressing',
    kstatus: 'InProgress',
  },
  {
    name: 'a stalled resource whose spec was just fixed is Progressing and InProgress',
    obj: resource('SyncSchedule', [stall('InvalidSchedule')], 2, 1),
    argo: 'Progressing',
    kstatus: 'InProgress',
  },
  {
    name: 'a resource the operator has not reconciled yet is Progressing (kstatus: Current, no status to go by)',
    obj: resource('OceanSite', undefined),
    argo: 'Progressing',
    kstatus: 'Current',
  },
];

/** kstatus for a custom resource, from its documented generic rules. */
function kstatus(obj: Obj): Kstatus {
  if (obj.metadata.deletionTimestamp) return 'Terminating';
  const observed = obj.status?.observedGeneration;
  if (obj.metadata.generation !== undefined && observed !== undefined && observed !== obj.metadata.generation) return 'InProgress';
  for (const c of obj.status?.conditions ?? []) {
    if (c.type === 'Reconciling' && c.status === 'True') return 'InProgress';
    if (c.type === 'Stalled' && c.status === 'True') return 'Failed';
  }
  return 'Current';
}

/** One character inside a Lua string literal: quote and backslash escaped, non-printable ASCII as \\u{hex}. */
function luaChar(ch: string): string {
  if (ch === '"' || ch === '\\') return `\\${ch}`;
  const code = ch.codePointAt(0) ?? 0;
  if (ch.charCodeAt(0) < 32 || ch.charCodeAt(0) > 126) return `\\u{${code.toString(16)}}`;
  return ch;
}

/** A JSON value as a Lua table constructor. */
function lua(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'string') return `"${[...value].map(luaChar).join('')}"`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `{ ${value.map(lua).join(', ')} }`;
  return `{ ${Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `[${lua(k)}] = ${lua(v)}`)
    .join(', ')} }`;
}

describe('Argo CD health check (lua5.4)', () => {
  it('gives each status the operator writes the expected health', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cc-argo-'));
    const file = join(dir, 'cases.lua');
    writeFileSync(
      file,
      `return {\n${cases.map((c) => `  { name = ${lua(c.name)}, want = ${lua(c.argo)}, obj = ${lua(c.obj)} },`).join('\n')}\n}\n`,
    );
    const run = spawnSync(
      'lua5.4',
      [join(root, 'test/monitoring/argocd-health-harness.lua'), join(root, 'charts/cloudconnect-operator/files/argocd-health.lua'), file],
      { encoding: 'utf8' },
    );
    if (run.error) throw new Error(`lua5.4 not runnable (${run.error.message}); see test/install-system-deps.sh`);
    const output = `${run.stdout}${run.stderr}`;
    for (const c of cases) expect(output, output).toContain(`ok ${c.name} -> ${c.argo}`);
    expect(output).toContain(`${cases.length} cases, 0 failed`);
    expect(run.status).toBe(0);
  });

  it('names the reason and message of a Degraded resource', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cc-argo-'));
    const file = join(dir, 'cases.lua');
    const obj = resource('EmrIntegration', failing('Deauthorized'));
    writeFileSync(
      file,
      `return { { name = "message", want = "Degraded", message = "Deauthorized: Deauthorized detail", obj = ${lua(obj)} } }\n`,
    );
    const run = spawnSync(
      'lua5.4',
      [join(root, 'test/monitoring/argocd-health-harness.lua'), join(root, 'charts/cloudconnect-operator/files/argocd-health.lua'), file],
      { encoding: 'utf8' },
    );
    expect(run.stdout).toContain('1 cases, 0 failed');
  });

  it('has a harness that fails on a wrong expectation', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cc-argo-'));
    const file = join(dir, 'cases.lua');
    writeFileSync(
      file,
      `return { { name = "wrong", want = "Healthy", obj = ${lua(resource('SyncSchedule', [stall('InvalidSchedule')]))} } }\n`,
    );
    const run = spawnSync(
      'lua5.4',
      [join(root, 'test/monitoring/argocd-health-harness.lua'), join(root, 'charts/cloudconnect-operator/files/argocd-health.lua'), file],
      { encoding: 'utf8' },
    );
    expect(run.stdout).toContain('FAIL wrong: got Degraded, want Healthy');
    expect(run.status).toBe(1);
  });
});

describe('kstatus (Flux health checks)', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(kstatus(c.obj)).toBe(c.kstatus);
  });

  it('sees a resource being deleted as Terminating', () => {
    const obj = resource('OceanSite', [ok('Ready', 'Succeeded')]);
    obj.metadata.deletionTimestamp = now.toISOString();
    expect(kstatus(obj)).toBe('Terminating');
  });

  it('never sees a Reconciling or Stalled condition that is not True (the operator drops them)', () => {
    for (const c of cases)
      for (const cond of c.obj.status?.conditions ?? [])
        if (cond.type === 'Stalled' || cond.type === 'Reconciling') expect(cond.status, c.name).toBe('True');
  });
});
