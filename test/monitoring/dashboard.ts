// Reads the Grafana dashboard of the chart and lists its panel queries, with Grafana's variables
// replaced so that Prometheus itself (promtool, or a real server's HTTP API) can evaluate them; and
// runs promtool (Debian's `prometheus` package, test/install-system-deps.sh) for the unit tests.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const dashboardFile = join(import.meta.dirname, '..', '..', 'charts/cloudconnect-operator/files/dashboard.json');
export const alertsFile = join(import.meta.dirname, '..', '..', 'charts/cloudconnect-operator/files/alerts.yaml');

/** promtool with `args` in `cwd`: its exit status and stdout+stderr; throws saying how to install it when it is missing. */
export function promtool(args: string[], cwd?: string): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  if (run.error)
    throw new Error(`promtool not runnable (${run.error.message}); install Debian's prometheus package: test/install-system-deps.sh`);
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

interface Target {
  refId: string;
  expr: string;
  legendFormat?: string;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: Target[];
}
export interface Dashboard {
  title: string;
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; query?: unknown }[] };
}

export interface PanelQuery {
  panel: string;
  type: string;
  refId: string;
  expr: string;
  legend: string;
}

export function loadDashboard(file = dashboardFile): Dashboard {
  return JSON.parse(readFileSync(file, 'utf8')) as Dashboard;
}

export function panelQueries(dashboard: Dashboard): PanelQuery[] {
  return dashboard.panels
    .filter((p) => p.type !== 'row')
    .flatMap((p) =>
      (p.targets ?? []).map((t) => ({ panel: p.title, type: p.type, refId: t.refId, expr: t.expr, legend: t.legendFormat ?? '' })),
    );
}

/** Grafana's variables as a Prometheus query needs them: a namespace regex and a rate window. */
export function substitute(expr: string, vars: { namespace?: string; rateInterval?: string } = {}): string {
  return expr.replaceAll('$__rate_interval', vars.rateInterval ?? '5m').replaceAll('$namespace', vars.namespace ?? '.*');
}

/** The rendered list of panels and queries (for notes and the e2e test output). */
export function renderPanelList(dashboard: Dashboard): string {
  const lines = [
    `Dashboard "${dashboard.title}" (uid ${dashboard.uid}); variables: ${dashboard.templating.list.map((v) => `$${v.name}`).join(', ')}`,
  ];
  let section = '';
  for (const p of dashboard.panels) {
    if (p.type === 'row') {
      section = p.title;
      lines.push('', `## ${section}`);
      continue;
    }
    lines.push(`- ${p.title} [${p.type}]`);
    for (const t of p.targets ?? []) lines.push(`    ${t.refId}: ${t.expr}${t.legendFormat ? `   (legend: ${t.legendFormat})` : ''}`);
  }
  return lines.join('\n');
}
