// Pure: the per-document report of `kubectl cloudconnect validate`, and its summary.
import type { DocumentRef } from './offline-validate.ts';
import type { UncheckedRule } from './schema-check.ts';

export type Outcome = 'valid' | 'invalid' | 'skipped';

export interface DocumentResult {
  source: string;
  index: number;
  line: number;
  ref: DocumentRef;
  outcome: Outcome;
  /** 'server' = server-side dry run; 'offline' = the CRD schema here. */
  checkedBy: 'server' | 'offline' | 'none';
  errors: string[];
  notes: string[];
  uncheckedRules: UncheckedRule[];
}

export interface ReportOptions {
  mode: 'server' | 'offline';
  server?: string;
  /** Why validation is offline when the user did not ask for it. */
  offlineBecause?: string;
  verbose: boolean;
}

function describeRef(ref: DocumentRef): string {
  const kind = ref.kind ?? '<no kind>';
  const name = ref.name ?? '<no name>';
  return `${kind} ${ref.namespace ? `${ref.namespace}/` : ''}${name}`;
}

const CHECKED_BY_TEXT: Record<DocumentResult['checkedBy'], string> = {
  server: 'server dry run',
  offline: 'offline',
  none: 'not checked',
};

/** The verdict word: "schema OK" for a valid document checked only offline (no CEL rule ran). */
function outcomeWord(r: Pick<DocumentResult, 'outcome' | 'checkedBy'>): string {
  if (r.outcome === 'valid') return r.checkedBy === 'offline' ? 'schema OK' : 'valid';
  if (r.outcome === 'invalid') return 'INVALID';
  return 'skipped';
}

export function renderReport(results: readonly DocumentResult[], options: ReportOptions): string {
  const lines: string[] = [];
  if (options.offlineBecause) lines.push(`note: ${options.offlineBecause}: validating offline against the CRD schemas.`);
  let source = '';
  for (const r of results) {
    if (r.source !== source) {
      source = r.source;
      lines.push(source);
    }
    const how = CHECKED_BY_TEXT[r.checkedBy];
    const unchecked =
      r.checkedBy === 'offline' && r.uncheckedRules.length > 0
        ? `, ${r.uncheckedRules.length} CEL rule${r.uncheckedRules.length > 1 ? 's' : ''} not evaluated`
        : '';
    const word = outcomeWord(r);
    lines.push(`  #${r.index} (line ${r.line}) ${describeRef(r.ref)}: ${word} (${how}${unchecked})`);
    for (const e of r.errors) lines.push(`      ${e}`);
    for (const n of r.notes) lines.push(`      note: ${n}`);
    if (options.verbose && r.checkedBy === 'offline')
      for (const u of r.uncheckedRules) lines.push(`      not evaluated offline: ${u.field}: ${u.message}`);
  }
  const count = (o: Outcome) => results.filter((r) => r.outcome === o).length;
  lines.push('');
  lines.push(
    `${results.length} document${results.length === 1 ? '' : 's'}: ${count('valid')} valid, ${count('invalid')} invalid, ${count('skipped')} not checked.`,
  );
  if (options.mode === 'server')
    lines.push(
      `Checked by a server-side dry run (dryRun=All, fieldValidation=Strict)${options.server ? ` against ${options.server}` : ''}: schema and CEL rules, as kubectl apply --dry-run=server would.`,
    );
  const offlineDocs = results.filter((r) => r.checkedBy === 'offline');
  if (offlineDocs.length > 0) {
    const rules = offlineDocs.reduce((n, r) => n + r.uncheckedRules.length, 0);
    lines.push(
      `Checked offline against the CRD schemas of cloudconnect.dev/v1alpha1 (types, required fields, enums, patterns, lengths, ranges, unknown fields). ` +
        `CEL rules (x-kubernetes-validations) cannot be evaluated offline: ${rules} of them apply to ${offlineDocs.length === 1 ? 'this document' : 'these documents'} and were not checked${options.verbose ? '' : ' (--verbose lists them)'}; validate against a cluster to check them.`,
    );
  }
  return `${lines.join('\n')}\n`;
}
