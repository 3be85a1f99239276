// The Grafana dashboard of the chart: every panel query is valid PromQL (promtool parses it as a
// recording rule), names only metrics the operator or the relay export, and the operations panels
// are there (fleet by condition, credential expiry, sync success rate and duration, runs per hour,
// reconcile errors, queue depth, relay backlog). The e2e test (test/integration/prometheus-e2e.test.ts) runs them for real.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { alertsFile, loadDashboard, panelQueries, promtool, substitute } from '../monitoring/dashboard.ts';

const root = join(import.meta.dirname, '..', '..');
const dashboard = loadDashboard();
const queries = panelQueries(dashboard);
// Every metric is declared with its name as a string literal somewhere in the operator's sources.
const exported = readdirSync(join(root, 'operator'), { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
  .map((f) => readFileSync(join(root, 'operator', f), 'utf8'))
  .join('\n');

/** Metric names in a PromQL expression that belong to the operator's families. */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b(cloudconnect_\w+|controller_runtime_\w+|workqueue_\w+|leader_election_\w+)/g)].map((m) =>
    m[1]!.replace(/_(bucket|sum|count)$/, ''),
  );
}

describe('the dashboard', () => {
  it('has panel queries that promtool parses once Grafana variables are filled in', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cc-dash-'));
    const file = join(dir, 'queries.yaml');
    writeFileSync(
      file,
      stringify({
        groups: [
          {
            name: 'dashboard',
            rules: queries.map((q, i) => ({
              record: `dashboard:query_${i}`,
              expr: substitute(q.expr, { namespace: 'clinic-.*', rateInterval: '1m' }),
            })),
          },
        ],
      }),
    );
    const { output } = promtool(['check', 'rules', file]);
    expect(output).toContain(`SUCCESS: ${queries.length} rules found`);
  });

  it('fills in every Grafana variable it uses', () => {
    for (const q of queries) expect(substitute(q.expr), q.panel).not.toMatch(/\$/);
  });

  it.each([
    ['dashboard', () => queries.map((q) => q.expr)],
    ['alerts', () => [readFileSync(alertsFile, 'utf8')]],
  ])('%s name only metrics the operator or the relay export', (_name, texts) => {
    const names = new Set(texts().flatMap(metricNames));
    expect(names.size).toBeGreaterThan(5);
    for (const name of names) expect(exported, name).toContain(`'${name}'`);
  });

  it.each([
    ['fleet by condition', /by condition/i],
    ['auth expiry timeline', /credentials expire/i],
    ['sync success rate', /success rate/i],
    ['sync duration by type', /duration by type/i],
    ['runs per hour', /runs per hour/i],
    ['reconcile errors', /reconcile errors/i],
    ['queue depth', /queue depth/i],
    ['relay backlog', /relay backlog/i],
  ])('has a panel for %s', (_topic, title) => {
    expect(queries.some((q) => title.test(q.panel))).toBe(true);
  });

  it('lays panels out on Grafana’s 24-column grid with unique ids', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels as unknown as { title: string; gridPos: { x: number; w: number } }[])
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
  });
});
