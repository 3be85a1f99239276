// Where the demo lives and what it is called: fixed ports (so that `make up` can name the URLs
// before the simulators start), the files under .local/demo/, and the demo clinic's names.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout's .local/, where `make up` keeps its state. */
export const DEFAULT_LOCAL_DIR = fileURLToPath(new URL('../../../.local', import.meta.url));

export const DEMO_NAMESPACE = 'demo-clinic';
export const DEMO_SITE = 'demo';
export const DEMO_SITE_NUMBER = '1701';

/** The demo simulators' fixed ports: base+1..base+5 (the plain-http simulators of `make up` use 18101-18105). */
export const DEMO_PORT_BASE = 18200;

export function demoPorts(base = DEMO_PORT_BASE) {
  return { oscar: base + 1, accuro: base + 2, fhir: base + 3, telus: base + 4, ocean: base + 5, referralTarget: base + 6 };
}

export interface DemoPaths {
  /** .local/demo: everything the demo writes. */
  dir: string;
  /** The demo CA's certificate (public; its key never leaves the launcher's memory). */
  caFile: string;
  /** The generated simulator credentials (0600). */
  credentialsFile: string;
  /** URLs and non-secret identifiers of the running simulators. */
  simulatorsFile: string;
  /** The demo resources as applied, without any Secret. */
  manifestsFile: string;
  /** The launcher's control socket (only this user can open it): `send` goes through it. */
  controlSocket: string;
}

export function demoPaths(localDir: string): DemoPaths {
  const dir = join(localDir, 'demo');
  return {
    dir,
    caFile: join(dir, 'ca.crt'),
    credentialsFile: join(dir, 'credentials.json'),
    simulatorsFile: join(dir, 'simulators.json'),
    manifestsFile: join(dir, 'demo.yaml'),
    controlSocket: join(dir, 'control.sock'),
  };
}

/** The `export NAME="value"` lines of .local/env, as a map. */
export function readEnvFile(file: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^export ([A-Z_][A-Z0-9_]*)="?(.*?)"?$/.exec(line.trim());
    if (m?.[1] && m[2] !== undefined) env[m[1]] = m[2];
  }
  return env;
}
