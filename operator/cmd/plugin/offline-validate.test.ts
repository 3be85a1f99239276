// The offline check against the invalid-manifest corpus (test/invalid, whose `# expect:` lines are
// what the API server answers) and the examples (all valid).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseManifests, readManifests } from './manifests.ts';
import { formatFieldError, validateOffline } from './offline-validate.ts';

const root = new URL('../../..', import.meta.url).pathname;
const corpus = readdirSync(join(root, 'test/invalid'))
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((file) => {
    const text = readFileSync(join(root, 'test/invalid', file), 'utf8');
    return {
      file,
      text,
      why: /^# why: (.+)$/m.exec(text)?.[1] ?? file,
      expected: [...text.matchAll(/^# expect: (.+)$/gm)].map((m) => m[1]!.trim()),
    };
  });

describe('offline validation of the invalid corpus', () => {
  it.each(corpus.map((c) => [c.why, c] as const))(
    'reports, or names the CEL rule it cannot evaluate for, a manifest that %s',
    (_why, c) => {
      const [doc] = parseManifests(c.file, c.text);
      const result = validateOffline(doc!.value);
      const errors = result.errors.map(formatFieldError);
      for (const expected of c.expected) {
        const rule = result.uncheckedRules.find((r) => expected.includes(r.message));
        if (rule) {
          // A CEL rule: offline cannot evaluate it, and must say which one it skipped.
          expect(expected.startsWith(rule.field) || expected.startsWith(rule.message)).toBe(true);
        } else {
          expect(
            errors.some((e) => e.includes(expected)),
            `${c.file}: ${expected}\nnot in:\n${errors.join('\n')}`,
          ).toBe(true);
        }
      }
    },
  );

  it('finds a structural error in at least half of the corpus without a cluster', () => {
    const caught = corpus.filter((c) => validateOffline(parseManifests(c.file, c.text)[0]!.value).errors.length > 0);
    expect(caught.length).toBeGreaterThanOrEqual(corpus.length / 2);
  });
});

describe('offline validation of the examples', () => {
  const docs = readManifests([join(root, 'examples')], false, () => '');

  it('finds every cloudconnect.dev document of the examples valid and leaves the other kinds to the server', () => {
    const results = docs.map((d) => ({ source: d.source, result: validateOffline(d.value) }));
    for (const { source, result } of results) expect(result.errors.map(formatFieldError), source).toEqual([]);
    expect(
      results
        .filter((r) => !r.result.skipped)
        .map((r) => r.result.ref.kind)
        .sort(),
    ).toEqual([
      'EmrIntegration',
      'EmrIntegration',
      'EmrIntegration',
      'EmrIntegration',
      'EmrIntegration',
      'EmrIntegration',
      'EmrIntegration',
      'OceanSite',
      'SyncSchedule',
      'SyncSchedule',
      'SyncSchedule',
      'SyncSchedule',
      'SyncSchedule',
      'SyncSchedule',
    ]);
    expect(results.filter((r) => r.result.skipped).every((r) => r.result.ref.apiVersion === 'v1')).toBe(true);
  });
});

describe('validateOffline', () => {
  const site = (extra: Record<string, unknown>) => ({
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'OceanSite',
    metadata: { name: 'maple' },
    spec: { siteNumber: '1', clinicalAdminEmail: 'a@b.org' },
    ...extra,
  });
  it.each([
    [
      'rejects an unknown version of the group',
      { ...site({}), apiVersion: 'cloudconnect.dev/v1' },
      'apiVersion: Unsupported value: "cloudconnect.dev/v1": supported values: "cloudconnect.dev/v1alpha1"',
    ],
    ['rejects an unknown kind of the group', { ...site({}), kind: 'OceanSpot' }, 'kind: Unsupported value: "OceanSpot"'],
    [
      'rejects a name that is not a DNS subdomain',
      { ...site({}), metadata: { name: 'Maple_1' } },
      'metadata.name: Invalid value: "Maple_1"',
    ],
    ['requires a name', { ...site({}), metadata: {} }, 'metadata.name: Required value'],
    ['requires a spec', { apiVersion: 'cloudconnect.dev/v1alpha1', kind: 'OceanSite', metadata: { name: 'x' } }, 'spec: Required value'],
    [
      'names the wrong type of a field',
      site({ spec: { siteNumber: 4271, clinicalAdminEmail: 'a@b.org' } }),
      'spec.siteNumber: Invalid value: "integer": spec.siteNumber in body must be of type string: "integer"',
    ],
    ['rejects a document that is not a mapping', 'just a string', '<document>: a manifest must be a YAML mapping'],
  ])('%s', (_name, doc, expected) => {
    expect(validateOffline(doc).errors.map(formatFieldError).join('\n')).toContain(expected);
  });

  it('ignores status, which the API server ignores on create', () => {
    expect(validateOffline(site({ status: { bogus: true } })).errors).toEqual([]);
  });
});

describe('parseManifests', () => {
  it('keeps the line of each document and skips empty ones', () => {
    const docs = parseManifests('x.yaml', '# comment\n---\na: 1\n---\n\n---\nb: 2\n');
    expect(docs.map((d) => [d.index, d.line])).toEqual([
      [1, 3],
      [2, 7],
    ]);
  });

  it('reports a YAML syntax error for its document only', () => {
    const docs = parseManifests('x.yaml', 'a: 1\n---\nb: [1, 2\n---\nc: 3\n');
    expect(docs).toHaveLength(3);
    expect(docs[1]!.parseError).toBeDefined();
    expect(docs[2]!.value).toEqual({ c: 3 });
  });
});
