// The generated CRDs against the real kube-apiserver: they install, the examples apply, every
// invalid manifest of the corpus is rejected with its own message, and kubectl explain teaches.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { kubectl, kubectlOk, repoRoot } from './kubectl.ts';

const invalidDir = join(repoRoot, 'test/invalid');
const corpus = readdirSync(invalidDir)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((file) => {
    const text = readFileSync(join(invalidDir, file), 'utf8');
    const expected = [...text.matchAll(/^# expect: (.+)$/gm)].map((m) => m[1]!.trim());
    const why = /^# why: (.+)$/m.exec(text)?.[1] ?? file;
    return { file, text, expected, why };
  });

beforeAll(async () => {
  await kubectlOk(['apply', '--server-side', '--field-manager=cloudconnect-test', '-f', join(repoRoot, 'crds')]);
  await kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', '-f', join(repoRoot, 'crds')]);
  await kubectl(['create', 'namespace', 'invalid-corpus']);
  // A server-side dry run does not create the examples' namespace, so it must exist already.
  await kubectl(['create', 'namespace', 'clinic-maple']);
});

describe('the generated CRDs', () => {
  it('list all three kinds under the cloudconnect category', async () => {
    const out = await kubectlOk(['api-resources', '--categories=cloudconnect', '-o', 'name']);
    expect(out.split('\n').filter(Boolean).sort()).toEqual([
      'emrintegrations.cloudconnect.dev',
      'oceansites.cloudconnect.dev',
      'syncschedules.cloudconnect.dev',
    ]);
  });

  it('let every example apply cleanly, with strict field validation', async () => {
    const out = await kubectlOk(['apply', '--dry-run=server', '--validate=strict', '-R', '-f', join(repoRoot, 'examples')]);
    expect(out).toMatch(/oceansite\.cloudconnect\.dev\/\S+ created \(server dry run\)/);
    expect(out).toMatch(/emrintegration\.cloudconnect\.dev\/\S+ created \(server dry run\)/);
    expect(out).toMatch(/syncschedule\.cloudconnect\.dev\/\S+ created \(server dry run\)/);
  });

  it('teach a nested field through kubectl explain', async () => {
    const out = await kubectlOk(['explain', 'emrintegrations.spec.emr.oscarPro.serverUrl']);
    expect(out).toContain("must not end in '/'");
    expect(out).toMatch(/FIELD:\s+serverUrl/);
  });

  it("teach the EMR's time zone through kubectl explain, with its default (the site's)", async () => {
    const out = await kubectlOk(['explain', 'emrintegrations.spec.emr.timeZone']);
    expect(out).toMatch(/FIELD:\s+timeZone/);
    expect(out).toContain("Defaults to the site's spec.timeZone");
  });

  it('fill in the documented defaults', async () => {
    const out = await kubectlOk(
      ['apply', '--dry-run=server', '-o', 'json', '-f', '-'],
      JSON.stringify({
        apiVersion: 'cloudconnect.dev/v1alpha1',
        kind: 'EmrIntegration',
        metadata: { name: 'defaults', namespace: 'invalid-corpus' },
        spec: { siteRef: { name: 's' }, emr: { type: 'None' } },
      }),
    );
    const obj = JSON.parse(out) as {
      spec: { settings: Record<string, unknown>; auth: Record<string, unknown>; suspend: boolean; emr: Record<string, unknown> };
    };
    expect(obj.spec.settings).toMatchObject({ scheduleDaysToSync: 1, markArrivedWithinHours: 2, autoImportAttachments: true });
    // No schema default for the EMR's zone: absent means the site's spec.timeZone, resolved when a pod starts.
    expect(obj.spec.emr).not.toHaveProperty('timeZone');
    expect(obj.spec.auth).toMatchObject({ checkInterval: '1h' });
    expect(obj.spec.suspend).toBe(false);
  });
});

describe('the invalid manifest corpus', () => {
  it('has at least twenty cases, each with an expected message', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(20);
    for (const c of corpus) expect(c.expected, c.file).not.toHaveLength(0);
  });

  it.each(corpus.map((c) => [c.why, c] as const))('rejects a manifest that %s', async (_why, c) => {
    const result = await kubectl(['apply', '--dry-run=server', '--validate=strict', '-n', 'invalid-corpus', '-f', '-'], c.text);
    expect(result.code, `${c.file} was accepted:\n${result.stdout}`).not.toBe(0);
    for (const message of c.expected) expect(result.stderr).toContain(message);
  });
});
