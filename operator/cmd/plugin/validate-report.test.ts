import { describe, expect, it } from 'vitest';
import { type DocumentResult, renderReport } from './validate-report.ts';

const doc = (parts: Partial<DocumentResult>): DocumentResult => ({
  source: 'a.yaml',
  index: 1,
  line: 1,
  ref: { kind: 'OceanSite', name: 'maple', namespace: 'clinic' },
  outcome: 'valid',
  checkedBy: 'server',
  errors: [],
  notes: [],
  uncheckedRules: [],
  ...parts,
});

describe('renderReport', () => {
  it.each([
    [
      'groups documents by file and counts the outcomes',
      [doc({}), doc({ index: 2, line: 9, outcome: 'invalid', errors: ['spec.siteNumber: Required value'] })],
      { mode: 'server' as const, server: 'https://k:6443', verbose: false },
      [
        'a.yaml',
        '  #1 (line 1) OceanSite clinic/maple: valid (server dry run)',
        '  #2 (line 9) OceanSite clinic/maple: INVALID (server dry run)',
        '      spec.siteNumber: Required value',
        '2 documents: 1 valid, 1 invalid, 0 not checked.',
      ],
    ],
    [
      'says why it validates offline and how many CEL rules it skipped',
      [doc({ checkedBy: 'offline', uncheckedRules: [{ field: 'spec.timeZone', rule: 'r', message: 'must be IANA' }] })],
      { mode: 'offline' as const, offlineBecause: 'the cluster at https://k is not reachable (ECONNREFUSED)', verbose: false },
      [
        'note: the cluster at https://k is not reachable (ECONNREFUSED): validating offline against the CRD schemas.',
        '  #1 (line 1) OceanSite clinic/maple: schema OK (offline, 1 CEL rule not evaluated)',
      ],
    ],
    [
      'lists the skipped CEL rules when verbose',
      [doc({ checkedBy: 'offline', uncheckedRules: [{ field: 'spec.timeZone', rule: 'r', message: 'must be IANA' }] })],
      { mode: 'offline' as const, verbose: true },
      ['      not evaluated offline: spec.timeZone: must be IANA'],
    ],
    [
      'marks other kinds as not checked offline',
      [
        doc({
          ref: { apiVersion: 'v1', kind: 'Secret', name: 's' },
          outcome: 'skipped',
          checkedBy: 'none',
          notes: ['v1 Secret is not a cloudconnect.dev kind'],
        }),
      ],
      { mode: 'offline' as const, verbose: false },
      [
        '  #1 (line 1) Secret s: skipped (not checked)',
        '      note: v1 Secret is not a cloudconnect.dev kind',
        '1 document: 0 valid, 0 invalid, 1 not checked.',
      ],
    ],
  ])('%s', (_name, results, options, expectedLines) => {
    const lines = renderReport(results, options).split('\n');
    for (const line of expectedLines) expect(lines).toContain(line);
  });

  it('explains that CEL rules cannot be evaluated offline whenever a document was checked offline', () => {
    expect(renderReport([doc({ checkedBy: 'offline' })], { mode: 'offline', verbose: false })).toContain(
      'CEL rules (x-kubernetes-validations) cannot be evaluated offline: 0 of them apply',
    );
    expect(renderReport([doc({})], { mode: 'server', verbose: false })).not.toContain('cannot be evaluated offline');
  });
});
