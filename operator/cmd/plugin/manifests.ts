// Reads the manifests named by -f: files, directories (their .yaml/.yml/.json files; with
// --recursive also below), or "-" for stdin; splits multi-document YAML, keeping each document's
// line so errors can point at it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export interface ManifestDocument {
  source: string;
  /** 1-based position in its file. */
  index: number;
  line: number;
  value?: unknown;
  parseError?: string;
}

function manifestFiles(paths: string[], recursive: boolean): string[] {
  const files: string[] = [];
  const walk = (dir: string, depth: number) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (recursive) walk(full, depth + 1);
      } else if (/\.(ya?ml|json)$/.test(entry.name)) files.push(full);
    }
  };
  for (const p of paths) {
    if (p === '-') files.push('-');
    else if (statSync(p).isDirectory()) walk(p, 0);
    else files.push(p);
  }
  return files;
}

export function parseManifests(source: string, text: string): ManifestDocument[] {
  const lineOf = (offset: number) => text.slice(0, offset).split('\n').length;
  const out: ManifestDocument[] = [];
  let index = 0;
  for (const doc of parseAllDocuments(text)) {
    const contentsStart = doc.contents?.range?.[0];
    if (doc.errors.length === 0 && (doc.contents === null || doc.toJS() === null)) continue; // comments-only or a trailing ---
    index += 1;
    const line = lineOf(contentsStart ?? doc.range[0]);
    if (doc.errors.length > 0) {
      out.push({ source, index, line, parseError: doc.errors.map((e) => e.message.split('\n')[0]).join('; ') });
      continue;
    }
    out.push({ source, index, line, value: doc.toJS({ maxAliasCount: 100 }) });
  }
  return out;
}

export function readManifests(paths: string[], recursive: boolean, stdin: () => string): ManifestDocument[] {
  return manifestFiles(paths, recursive).flatMap((file) =>
    parseManifests(file === '-' ? '<stdin>' : file, file === '-' ? stdin() : readFileSync(file, 'utf8')),
  );
}
