// The command line itself: help, exit codes, clear errors for bad arguments (no cluster needed).
import { describe, expect, it } from 'vitest';
import type { CommandIo } from './io.ts';
import { run } from './main.ts';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CommandIo = {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    now: () => new Date('2026-11-28T12:00:00Z'),
    color: false,
    interactive: false,
  };
  const code = await run(argv, io);
  return { code, out, err };
}

describe('kubectl cloudconnect', () => {
  it.each([
    ['lists every command in --help', ['--help'], 0, /status[\s\S]*sync[\s\S]*support-bundle[\s\S]*validate/],
    ['shows the help of status', ['status', '--help'], 0, /kubectl cloudconnect status \[-n NAMESPACE\]/],
    [
      'shows -A in the help of status',
      ['status', '--help'],
      0,
      /-A, --all-namespaces {2}list every OceanSite, EmrIntegration and SyncSchedule/,
    ],
    ['names status -A in the root help', ['--help'], 0, /status -A/],
    ['shows the help of sync', ['sync', '--help'], 0, /--full[\s\S]*--no-wait[\s\S]*--timeout/],
    ['shows the help of support-bundle', ['support-bundle', '--help'], 0, /--operator-log FILE/],
    ['shows the help of validate', ['validate', '--help'], 0, /--offline/],
    ['shows a command help through "help COMMAND"', ['help', 'sync'], 0, /INTEGRATION/],
    ['shows the help of relay', ['relay', '--help'], 0, /relay replay INTEGRATION[\s\S]*replayRequestedAt/],
    ['shows the help of authorize', ['authorize', '--help'], 0, /--verifier-stdin[\s\S]*--no-browser[\s\S]*--timeout[\s\S]*--no-wait/],
    ['names authorize in the root help', ['--help'], 0, /authorize {8}OSCAR Pro/],
  ])('%s', async (_name, argv, code, pattern) => {
    const r = await cli(...argv);
    expect(r.code).toBe(code);
    expect(r.out).toMatch(pattern);
  });

  it.each([
    ['exits 2 with the usage when run without a command', [], /Usage:/],
    ['exits 2 on an unknown command', ['stauts'], /unknown command "stauts"/],
    ['exits 2 when sync has no integration', ['sync'], /missing argument: INTEGRATION/],
    ['exits 2 when sync gets two integrations', ['sync', 'a', 'b'], /unexpected argument: b/],
    ['exits 2 on an unknown option', ['status', '--watch'], /Unknown option '--watch'/],
    ['exits 2 when status -A gets a namespace as an argument', ['status', '-A', 'clinic'], /unexpected argument: clinic/],
    ['exits 2 on a malformed timeout', ['sync', 'a', '--timeout', 'soon'], /--timeout must be a duration/],
    ['exits 2 on --wait with --no-wait', ['sync', 'a', '--wait', '--no-wait'], /cannot be used together/],
    ['exits 2 when validate has no -f', ['validate'], /-f FILE is required/],
    ['exits 2 when the file to validate does not exist', ['validate', '-f', '/nonexistent/x.yaml', '--offline'], /no such file/],
    ['exits 2 on a non-numeric --log-lines', ['support-bundle', '--log-lines', 'many'], /--log-lines must be a positive integer/],
    ['exits 2 when relay has no action or integration', ['relay', 'replay'], /missing argument: replay INTEGRATION/],
    ['exits 2 on an unknown relay action', ['relay', 'purge', 'a'], /unknown relay action "purge"/],
    ['exits 2 when authorize has no integration', ['authorize'], /missing argument: INTEGRATION/],
    ['exits 2 on a malformed authorize timeout', ['authorize', 'a', '--timeout', 'soon'], /--timeout must be a duration/],
  ])('%s', async (_name, argv, pattern) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.out + r.err).toMatch(pattern);
  });

  it('exits 1 and names the field when an offline validation finds an invalid manifest', async () => {
    const r = await cli(
      'validate',
      '--offline',
      '-f',
      new URL('../../../test/invalid/site-number-with-letters.yaml', import.meta.url).pathname,
    );
    expect(r.code).toBe(1);
    expect(r.out).toContain(`spec.siteNumber: Invalid value: "MAPLE42"`);
    expect(r.out).toContain('CEL rules (x-kubernetes-validations) cannot be evaluated offline');
  });
});
