// The Dockerfile (for users' registries) and test/image/build.sh (the local cluster, no Docker
// engine) build the same image: both follow test/image/spec.json. This file parses the Dockerfile
// and checks it against the spec; test/integration/image.test.ts checks the built image against it.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RELAY_COMMAND } from '../../operator/controller/emrintegration/relay/deployment.ts';
import { argsOf, keyValues, parseDockerfile, type Stage } from '../image/dockerfile.ts';
import { excludedByName, readImageSpec } from '../image/spec.ts';

const root = new URL('../..', import.meta.url).pathname;
const read = (path: string) => readFileSync(`${root}${path}`, 'utf8');
const spec = readImageSpec().operator;
const dockerfile = parseDockerfile(read('Dockerfile'));

function stageNamed(name: string): Stage {
  const stage = dockerfile.stages.find((s) => s.name === name);
  if (!stage) throw new Error(`the Dockerfile has no stage ${name}`);
  return stage;
}
function runtimeStage(): Stage {
  const stage = dockerfile.stages.at(-1);
  if (!stage) throw new Error('the Dockerfile has no stage');
  return stage;
}
/** The one value of KEYWORD in the runtime stage (the last one wins in Docker; there must be one). */
function runtimeOnly(keyword: string): string {
  const values = argsOf(runtimeStage(), keyword);
  expect(values, `one ${keyword} in the runtime stage`).toHaveLength(1);
  return values[0] ?? '';
}
/** The command a Dockerfile comment documents for a program: `<program>: command: [...]`. */
function documentedCommand(program: string): string[] {
  const line = dockerfile.comments.find((c) => c.startsWith(`${program}:`) && c.includes('command: ['));
  const json = line?.match(/command: (\[[^\]]*\])/)?.[1];
  if (!json) throw new Error(`the Dockerfile documents no command for ${program}`);
  return JSON.parse(json) as string[];
}
function chartOperatorCommand(): string[] {
  const template = read('charts/cloudconnect-operator/templates/deployment.yaml');
  const json = template.match(/- name: operator\n(?:.*\n)*?\s+command: (\[[^\]]*\])/)?.[1];
  if (!json) throw new Error("the chart's operator container sets no command");
  return JSON.parse(json) as string[];
}

describe('the Dockerfile and test/image/spec.json describe the same image', () => {
  it('runs as the spec user', () => {
    expect(runtimeOnly('USER')).toBe(spec.user);
  });

  it('works in the spec workdir', () => {
    expect(runtimeOnly('WORKDIR')).toBe(spec.workdir);
  });

  it('sets exactly the spec environment', () => {
    const env = argsOf(runtimeStage(), 'ENV').flatMap((args) => Object.entries(keyValues(args)).map(([k, v]) => `${k}=${v}`));
    expect(env).toEqual(spec.env);
  });

  it('starts the spec entrypoint, with Node at the spec path', () => {
    expect(JSON.parse(runtimeOnly('ENTRYPOINT'))).toEqual(spec.entrypoint);
    expect(spec.entrypoint[0]).toBe(spec.node);
  });

  it('builds on distroless Node of the pinned major, whose nonroot user and Node path the spec copies', () => {
    const pinned = (JSON.parse(read('package.json')) as { devDependencies: Record<string, string> }).devDependencies.node;
    const match = runtimeStage().from.match(/^gcr\.io\/distroless\/nodejs(\d+)-debian\d+:nonroot$/);
    expect(match?.[1]).toBe(pinned?.split('.')[0]);
    expect([spec.userName, spec.user, spec.home, spec.node]).toEqual(['nonroot', '65532:65532', '/home/nonroot', '/nodejs/bin/node']);
  });

  it('carries the spec labels', () => {
    const labels = Object.assign({}, ...argsOf(runtimeStage(), 'LABEL').map(keyValues));
    expect(labels).toEqual(spec.labels);
  });

  it('installs the production dependencies with the spec command', () => {
    const install = argsOf(stageNamed('build'), 'RUN').find((run) => run.startsWith(spec.dependencies.slice(0, 2).join(' ')));
    expect(install?.split(/\s+/)).toEqual(expect.arrayContaining(spec.dependencies));
  });

  it('copies the spec files and the installed node_modules into the runtime stage, nothing else', () => {
    const copied = argsOf(runtimeStage(), 'COPY').map((args) => {
      const [from, source = '', target = ''] = args.split(/\s+/);
      expect(from).toBe('--from=build');
      expect(target).toBe(`./${source.replace(`${spec.workdir}/`, '')}`);
      return source.replace(`${spec.workdir}/`, '');
    });
    expect(copied.sort()).toEqual([...spec.copy.map((path) => path.replace(/\/$/, '')), 'node_modules'].sort());
  });

  it('leaves out the spec exclude names, in the build stage and in .dockerignore', () => {
    const find = argsOf(stageNamed('build'), 'RUN').find((run) => run.startsWith('find operator'));
    const names = [...(find ?? '').matchAll(/-name '([^']+)'/g)].map((m) => m[1]);
    expect(names.sort()).toEqual([...spec.exclude].sort());
    const ignored = read('.dockerignore').split('\n');
    for (const name of spec.exclude) expect(ignored).toContain(`operator/**/${name}`);
  });
});

describe("each program's command is the one the chart and the operator run", () => {
  const programs = [
    { program: 'worker', command: spec.entrypoint, usedBy: spec.entrypoint },
    { program: 'operator', command: documentedCommand('operator'), usedBy: chartOperatorCommand() },
    { program: 'relay', command: documentedCommand('relay'), usedBy: RELAY_COMMAND },
  ];

  it.each(programs)('the $program command matches what runs it', ({ command, usedBy }) => {
    expect(command).toEqual(usedBy);
    expect(command[0]).toBe(spec.node);
  });

  it.each(programs)('the $program path is in the image and starts operator/cmd/$program', ({ program, command }) => {
    const path = command[1] ?? '';
    expect(existsSync(`${root}${path}`)).toBe(true);
    expect(excludedByName(path.split('/').at(-1) ?? '', spec.exclude)).toBe(false);
    expect(spec.copy.some((copied) => path === copied || (copied.endsWith('/') && path.startsWith(copied)))).toBe(true);
    const source = read(path);
    expect(path === `operator/cmd/${program}/main.ts` || source.includes(`cmd/${program}/main.ts'`)).toBe(true);
  });
});

describe('excludedByName', () => {
  it.each([
    { name: 'sync.test.ts', excluded: true },
    { name: 'test-helpers.ts', excluded: true },
    { name: 'sync.ts', excluded: false },
    { name: 'my-test-helpers.ts', excluded: false },
  ])('$name is left out: $excluded', ({ name, excluded }) => {
    expect(excludedByName(name, ['*.test.ts', 'test-helpers.ts'])).toBe(excluded);
  });
});
