import { describe, expect, it } from 'vitest';
import { parseStatusArgs } from './status.ts';
import { UsageError } from './usage.ts';

describe('parseStatusArgs', () => {
  it.each([
    ['reads one namespace by default', [], { allNamespaces: false, client: { namespace: undefined } }],
    ['reads the namespace given with -n', ['-n', 'clinic'], { allNamespaces: false, client: { namespace: 'clinic' } }],
    ['reads every namespace with -A', ['-A'], { allNamespaces: true, client: { namespace: undefined } }],
    ['reads every namespace with --all-namespaces', ['--all-namespaces'], { allNamespaces: true, client: { namespace: undefined } }],
    ['ignores -n next to -A, as kubectl does', ['-A', '-n', 'clinic'], { allNamespaces: true, client: { namespace: undefined } }],
    [
      'keeps --context and --kubeconfig with -A',
      ['-A', '--context', 'prod', '--kubeconfig', '/k'],
      { allNamespaces: true, client: { context: 'prod', kubeconfig: '/k', namespace: undefined } },
    ],
    ['asks for help with -h', ['-A', '-h'], { help: true }],
  ] as const)('%s', (_name, args, expected) => {
    expect(parseStatusArgs([...args])).toMatchObject(expected);
  });

  it.each([
    ['refuses a value for -A', ['--all-namespaces=yes']],
    ['refuses a positional argument', ['-A', 'clinic']],
  ])('%s', (_name, args) => {
    expect(() => parseStatusArgs(args)).toThrow(UsageError);
  });
});
