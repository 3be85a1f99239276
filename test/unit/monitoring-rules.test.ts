// The alert rules (charts/cloudconnect-operator/files/alerts.yaml) pass `promtool check rules` and
// the rule unit tests in test/monitoring/alerts.test.yaml (each alert firing and not firing on
// series shaped like the operator's output). promtool comes from Debian's `prometheus` package
// (test/install-system-deps.sh).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { promtool, alertsFile as rulesFile } from '../monitoring/dashboard.ts';

const root = join(import.meta.dirname, '..', '..');
const testsFile = join(root, 'test/monitoring/alerts.test.yaml');

interface Rule {
  alert: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const rules = (parse(readFileSync(rulesFile, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);

describe('alert rules', () => {
  it('pass promtool check rules', () => {
    const { status, output } = promtool(['check', 'rules', rulesFile]);
    expect(output).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(status).toBe(0);
  });

  it('pass their promtool unit tests', () => {
    const { status, output } = promtool(['test', 'rules', 'alerts.test.yaml'], join(root, 'test/monitoring'));
    expect(output).toContain('SUCCESS');
    expect(status).toBe(0);
    // promtool is a separate program (a few seconds on a busy machine): a configured limit, not a speed claim.
  }, 30_000);

  it('are each tested firing and not firing', () => {
    const tests = (
      parse(readFileSync(testsFile, 'utf8')) as { tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[] }
    ).tests.flatMap((t) => t.alert_rule_test);
    for (const rule of rules) {
      const cases = tests.filter((t) => t.alertname === rule.alert);
      expect(
        cases.some((t) => t.exp_alerts.length > 0),
        `${rule.alert} fires in a test`,
      ).toBe(true);
      expect(
        cases.some((t) => t.exp_alerts.length === 0),
        `${rule.alert} stays silent in a test`,
      ).toBe(true);
    }
  });

  it.each([
    'CloudConnectEmrAuthExpiringSoon',
    'CloudConnectEmrAuthFailed',
    'CloudConnectSyncFailing',
    'CloudConnectSyncNotScheduled',
    'CloudConnectVaultUnavailable',
    'CloudConnectSekAccessed',
    'CloudConnectOperatorDown',
    'CloudConnectReconcileErrors',
    'CloudConnectRelayBacklogged',
    'CloudConnectRelayDeadLettered',
  ])('include %s with a severity, a summary, a description and a runbook section that exists in the README', (name) => {
    const rule = rules.find((r) => r.alert === name);
    expect(rule, name).toBeDefined();
    expect(['critical', 'warning', 'info']).toContain(rule!.labels?.severity);
    expect(rule!.annotations?.summary).toBeTruthy();
    expect(rule!.annotations?.description).toBeTruthy();
    const anchor = `runbook-${name.toLowerCase()}`;
    expect(rule!.annotations?.runbook).toBe(`https://github.com/cloudconnect/cloudconnect-operator/blob/main/README.md#${anchor}`);
    const headings = readFileSync(join(root, 'README.md'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('### Runbook: '));
    expect(headings.map((h) => githubAnchor(h.replace(/^#+ /, '')))).toContain(anchor);
  });

  it('build their annotations only from labels and values, never from a series that could carry a secret', () => {
    for (const rule of rules) {
      for (const text of Object.values(rule.annotations ?? {})) {
        const fields = [...text.matchAll(/\$labels\.(\w+)/g)].map((m) => m[1]);
        for (const f of fields)
          expect(
            ['namespace', 'name', 'site', 'integration', 'emr', 'type', 'reason', 'controller', 'accessor_type'],
            `${rule.alert} uses label ${f}`,
          ).toContain(f);
        expect(text, rule.alert).not.toMatch(/\bquery\b/);
      }
    }
  });
});

/** GitHub's heading anchors: lower case, punctuation other than - and _ dropped, spaces to -. */
function githubAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

describe('githubAnchor', () => {
  it('turns a runbook heading into the anchor GitHub gives it', () => {
    expect(githubAnchor('Runbook: CloudConnectEmrAuthFailed')).toBe('runbook-cloudconnectemrauthfailed');
  });
});
