// Writes charts/cloudconnect-operator/values.schema.json from values.yaml: the comment directly
// above each key is its description, the value's type its type (`make generate`); `--check` fails
// on drift (`make verify`). A key without a comment is an error, so every value stays documented.
// A comment line `@schema <yaml map>` adds keywords instead of text, e.g. `@schema {enum: [a, b]}`
// or `@schema {additionalProperties: true}` for a map users extend with keys of their own.
import { readFile, writeFile } from 'node:fs/promises';
import { isMap, isScalar, isSeq, type Node, type Pair, parse, parseDocument, type YAMLMap } from 'yaml';

export type JsonSchema = { [key: string]: unknown };

export class ValuesSchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ValuesSchemaError';
  }
}

/** Pure: the JSON schema of a values.yaml text. */
export function valuesSchema(text: string): JsonSchema {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new ValuesSchemaError(`values.yaml does not parse: ${doc.errors[0]!.message}`);
  if (!isMap(doc.contents)) throw new ValuesSchemaError('values.yaml must be a map');
  return { $schema: 'http://json-schema.org/draft-07/schema#', ...mapSchema(doc.contents, '') };
}

function mapSchema(map: YAMLMap, path: string): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  map.items.forEach((pair, i) => {
    const key = keyOf(pair, path);
    const where = path ? `${path}.${key}` : key;
    const comment = i === 0 ? (map.commentBefore ?? keyComment(pair)) : keyComment(pair);
    const { description, keywords } = splitComment(lastParagraph(comment), where);
    if (!description) throw new ValuesSchemaError(`${where}: every key in values.yaml needs a comment above it (its description)`);
    properties[key] = { description, ...valueSchema(pair.value as Node | null, where), ...keywords };
  });
  // An empty map is open (annotations, labels); a filled one lists exactly its keys, so a typo fails `helm install`.
  return map.items.length === 0 ? { type: 'object' } : { type: 'object', additionalProperties: false, properties };
}

function valueSchema(value: Node | null, where: string): JsonSchema {
  if (isMap(value)) return mapSchema(value, where);
  if (isSeq(value)) {
    const first = value.items[0];
    return isScalar(first) ? { type: 'array', items: { type: scalarType(first.value, where) } } : { type: 'array' };
  }
  if (isScalar(value)) return { type: scalarType(value.value, where) };
  throw new ValuesSchemaError(`${where}: give the key a value (an empty string, list or map) so its type is known`);
}

function scalarType(value: unknown, where: string): string {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  throw new ValuesSchemaError(`${where}: null is not a type; use an empty string, list or map`);
}

function keyOf(pair: Pair, path: string): string {
  if (!isScalar(pair.key) || typeof pair.key.value !== 'string')
    throw new ValuesSchemaError(`${path || '<root>'}: keys must be plain strings`);
  return pair.key.value;
}

function keyComment(pair: Pair): string | undefined {
  return isScalar(pair.key) ? (pair.key.commentBefore ?? undefined) : undefined;
}

/** The comment block touching the key: a file header separated by a blank line is not part of it. */
function lastParagraph(comment: string | null | undefined): string {
  return (comment ?? '').split(/\n\s*\n/).pop() ?? '';
}

function splitComment(comment: string, where: string): { description: string; keywords: JsonSchema } {
  const text: string[] = [];
  let keywords: JsonSchema = {};
  for (const raw of comment.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('@schema ')) {
      const extra: unknown = parse(line.slice('@schema '.length));
      if (typeof extra !== 'object' || extra === null || Array.isArray(extra))
        throw new ValuesSchemaError(`${where}: @schema must be followed by a YAML map`);
      keywords = { ...keywords, ...(extra as JsonSchema) };
    } else if (line) {
      text.push(line);
    }
  }
  return { description: text.join(' '), keywords };
}

export function renderValuesSchema(text: string): string {
  return `${JSON.stringify(valuesSchema(text), null, 2)}\n`;
}

const CHART = new URL('../../charts/cloudconnect-operator/', import.meta.url);

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const schemaFile = new URL('values.schema.json', CHART);
  const wanted = renderValuesSchema(await readFile(new URL('values.yaml', CHART), 'utf8'));
  if (check) {
    const current = await readFile(schemaFile, 'utf8').catch(() => '');
    if (current !== wanted) {
      console.error('charts/cloudconnect-operator/values.schema.json is out of date (run make generate)');
      process.exit(1);
    }
    console.log('values.schema.json is up to date');
  } else {
    await writeFile(schemaFile, wanted);
    console.log('wrote charts/cloudconnect-operator/values.schema.json');
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    await main();
  } catch (error) {
    if (!(error instanceof ValuesSchemaError)) throw error;
    console.error(`values.yaml: ${error.message}`);
    process.exit(1);
  }
}
