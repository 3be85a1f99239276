// ARCHITECTURE.md is the newcomer's map: it must name every folder of the layered tree, so a folder
// added without a line there (or a line left for a folder that is gone) fails here.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;
const map = readFileSync(join(root, 'ARCHITECTURE.md'), 'utf8');
const folders = (dir: string): string[] =>
  readdirSync(join(root, dir), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);

const layers = ['api', 'runtime', 'internal', 'controller', 'manager', 'cmd'];
const documented = [
  ...folders('operator').map((name) => ({ folder: `operator/${name}`, says: `${name}/` })),
  ...['internal', 'controller', 'cmd'].flatMap((layer) =>
    folders(`operator/${layer}`).map((name) => ({ folder: `operator/${layer}/${name}`, says: `${name}/` })),
  ),
];

describe('ARCHITECTURE.md', () => {
  it.each(documented)('names the folder $folder', ({ says }) => {
    expect(map).toContain(says);
  });

  it('names only layers that exist, in the order imports flow', () => {
    const present = folders('operator').filter((name) => layers.includes(name));
    expect(present.sort()).toEqual([...layers].sort());
    const positions = layers.map((layer) => map.indexOf(`\n  ${layer}/`));
    expect(positions.every((at) => at > 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });
});
