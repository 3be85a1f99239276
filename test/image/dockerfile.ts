// A Dockerfile read as instructions per stage, enough for test/unit/image-spec.test.ts to compare it
// with test/image/spec.json: continuation lines joined, comments kept apart, ARG defaults resolved
// in FROM. Not a general parser (no heredocs, no escape directive).

export interface Instruction {
  keyword: string;
  /** Everything after the keyword, continuation lines joined with a space. */
  args: string;
}

export interface Stage {
  /** The FROM image with ${ARG}s replaced by their defaults. */
  from: string;
  name?: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  stages: Stage[];
  /** The comment lines, without their `#`. */
  comments: string[];
}

function logicalLines(text: string): { lines: string[]; comments: string[] } {
  const lines: string[] = [];
  const comments: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#')) {
      comments.push(line.slice(1).trim());
      continue;
    }
    if (line === '' && pending === '') continue;
    const continued = line.endsWith('\\');
    pending = `${pending} ${continued ? line.slice(0, -1) : line}`.trim();
    if (!continued) {
      lines.push(pending);
      pending = '';
    }
  }
  if (pending !== '') lines.push(pending);
  return { lines, comments };
}

export function parseDockerfile(text: string): Dockerfile {
  const { lines, comments } = logicalLines(text);
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of lines) {
    const [keyword = '', ...rest] = line.split(/\s+/);
    const instruction = { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    const stage = stages.at(-1);
    if (instruction.keyword === 'FROM') {
      const [image = '', as, name] = rest;
      const from = image.replace(/\$\{(\w+)\}/g, (_, arg: string) => args.get(arg) ?? '');
      stages.push(as?.toUpperCase() === 'AS' && name ? { from, name, instructions: [] } : { from, instructions: [] });
    } else if (!stage && instruction.keyword === 'ARG') {
      const [name = '', value = ''] = instruction.args.split('=');
      args.set(name, value);
    } else if (stage) {
      stage.instructions.push(instruction);
    }
  }
  return { stages, comments };
}

/** The arguments of every instruction KEYWORD in a stage, in order. */
export function argsOf(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
}

/** `KEY=value` pairs of ENV or LABEL arguments (values may be double-quoted). */
export function keyValues(args: string): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const match of args.matchAll(/([\w.-]+)=("(?:[^"\\]|\\.)*"|\S+)/g)) {
    const [, key = '', value = ''] = match;
    pairs[key] = value.startsWith('"') ? (JSON.parse(value) as string) : value;
  }
  return pairs;
}
