import { describe, expect, it } from 'vitest';
import { checkAgainstSchema, type JsonSchemaProps } from './schema-check.ts';

const schema: JsonSchemaProps = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', maxLength: 5 },
    quantity: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    tags: { type: 'array', maxItems: 2, 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
    free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { a: { type: 'string' } } },
    when: { type: 'string', format: 'date-time' },
    url: { type: 'string', 'x-kubernetes-validations': [{ rule: "self.startsWith('https://')", message: 'url must be https' }] },
  },
};

describe('checkAgainstSchema', () => {
  it.each([
    ['accepts a valid object', { name: 'a', quantity: '500m', labels: { x: 'y' }, tags: ['a', 'b'], when: '2026-11-28T12:00:00Z' }, []],
    ['accepts an integer where int-or-string is allowed', { name: 'a', quantity: 2 }, []],
    [
      'rejects a boolean where int-or-string is expected',
      { name: 'a', quantity: true },
      ['quantity: Invalid value: "boolean": quantity in body must be of type integer-or-string: "boolean"'],
    ],
    [
      'checks every value of a map against additionalProperties',
      { name: 'a', labels: { x: 1 } },
      ['labels.x: Invalid value: "integer": labels.x in body must be of type string: "integer"'],
    ],
    ['rejects a duplicate in a set list', { name: 'a', tags: ['a', 'a'] }, ['tags[1]: Duplicate value: "a"']],
    ['rejects too many items', { name: 'a', tags: ['a', 'b', 'c'] }, ['tags: Too many: 3: must have at most 2 items']],
    ['rejects a string that is too long', { name: 'abcdef' }, ['name: Too long: may not be more than 5 bytes']],
    ['keeps unknown fields where the schema preserves them', { name: 'a', free: { b: 1 } }, []],
    [
      'rejects a malformed date-time',
      { name: 'a', when: 'yesterday' },
      ['when: Invalid value: "yesterday": when in body must be of type date-time: "yesterday"'],
    ],
    ['reports a missing required field and an unknown one', { extra: 1 }, ['name: Required value', 'extra: unknown field "extra"']],
  ])('%s', (_name, value, expected) => {
    const errors = checkAgainstSchema(value, schema, '').errors.map((e) => `${e.field}: ${e.message}`);
    expect(errors).toEqual(expected);
  });

  it('lists the CEL rules of the fields present, without evaluating them', () => {
    expect(checkAgainstSchema({ name: 'a', url: 'http://x' }, schema, '').uncheckedRules).toEqual([
      { field: 'url', rule: "self.startsWith('https://')", message: 'url must be https' },
    ]);
    expect(checkAgainstSchema({ name: 'a' }, schema, '').uncheckedRules).toEqual([]);
  });
});
