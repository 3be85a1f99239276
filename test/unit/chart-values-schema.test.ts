// The values.schema.json generator (test/chart/values-schema.ts): descriptions from the comments,
// types from the values, @schema keywords, and a clear error for an undocumented key.
import { describe, expect, it } from 'vitest';
import { ValuesSchemaError, valuesSchema } from '../chart/values-schema.ts';

describe('valuesSchema', () => {
  it.each([
    [
      'describes a key by the comment directly above it',
      '# How many.\nreplicas: 2\n',
      { replicas: { description: 'How many.', type: 'integer' } },
    ],
    [
      'ignores a file header separated from the first key by a blank line',
      '# Header.\n\n# The tag.\ntag: ""\n',
      { tag: { description: 'The tag.', type: 'string' } },
    ],
    [
      'joins a comment of several lines into one description',
      '# One\n# two.\non: true\n',
      { on: { description: 'One two.', type: 'boolean' } },
    ],
    [
      'types a list by its first item',
      '# Drop.\ndrop: [ALL]\n',
      { drop: { description: 'Drop.', type: 'array', items: { type: 'string' } } },
    ],
    ['leaves an empty list untyped inside', '# Pull secrets.\nsecrets: []\n', { secrets: { description: 'Pull secrets.', type: 'array' } }],
    ['keeps an empty map open for keys of the user', '# Labels.\nlabels: {}\n', { labels: { description: 'Labels.', type: 'object' } }],
    [
      'adds @schema keywords instead of text',
      '# Level.\n# @schema {enum: [info, debug]}\nlevel: info\n',
      { level: { description: 'Level.', type: 'string', enum: ['info', 'debug'] } },
    ],
    ['types a fraction as a number', '# Ratio.\nratio: 0.5\n', { ratio: { description: 'Ratio.', type: 'number' } }],
  ])('%s', (_name, text, properties) => {
    expect(valuesSchema(text)).toEqual({
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      additionalProperties: false,
      properties,
    });
  });

  it('closes a filled map, describing the first nested key by the comment above it', () => {
    const schema = valuesSchema('# Image.\nimage:\n  # Repository.\n  repository: r\n  # Tag.\n  tag: t\n');
    expect(schema.properties).toEqual({
      image: {
        description: 'Image.',
        type: 'object',
        additionalProperties: false,
        properties: { repository: { description: 'Repository.', type: 'string' }, tag: { description: 'Tag.', type: 'string' } },
      },
    });
  });

  it.each([
    ['a key without a comment', '# A.\na: 1\nb: 2\n', 'b: every key in values.yaml needs a comment above it'],
    [
      'a nested key without a comment',
      '# Image.\nimage:\n  # Repo.\n  repository: r\n  tag: t\n',
      'image.tag: every key in values.yaml needs a comment',
    ],
    ['a null value, whose type cannot be known', '# A.\na:\n', 'a: null is not a type; use an empty string, list or map'],
    ['an @schema line that is not a map', '# A.\n# @schema [1]\na: 1\n', 'a: @schema must be followed by a YAML map'],
    ['a document that is not a map', '- a\n', 'values.yaml must be a map'],
  ])('refuses %s, naming the key', (_name, text, message) => {
    expect(() => valuesSchema(text)).toThrow(ValuesSchemaError);
    expect(() => valuesSchema(text)).toThrow(message);
  });
});
