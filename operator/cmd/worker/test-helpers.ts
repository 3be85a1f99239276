// Test fixture: the environment the operator gives a sync Job (site-pod.ts) for a run of runWorker in
// a test, against the Ocean simulator over https (the credentials directory written as files, one
// per key, Ocean's client among them), and quiet worker dependencies with an injected clock.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { TestTls } from '../../../test/integration/tls.ts';
import { LOOPBACK_ALLOW_CIDRS } from '../../../test/simulators/egress.ts';
import type { OceanSimulator } from '../../../test/simulators/ocean.ts';
import { createLogger } from '../../runtime/logger.ts';
import type { WorkerDeps } from './cli.ts';

export interface JobEnvInput {
  /** A directory of the test's own, holding ca.crt (the simulators' CA). */
  dir: string;
  tls: TestTls;
  ocean: OceanSimulator;
  siteNumber: string;
  siteTimeZone: string;
  spec: unknown;
  /** The EMR credentials Secret's keys and values. */
  credentials: Record<string, string>;
}

export async function jobEnv(input: JobEnvInput): Promise<NodeJS.ProcessEnv> {
  const name = `run-${Math.random().toString(36).slice(2)}`;
  const credentialsDir = join(input.dir, name);
  await mkdir(credentialsDir, { recursive: true });
  const files = {
    ...input.credentials,
    oceanClientId: input.ocean.credentials.clientId,
    oceanClientSecret: input.ocean.credentials.clientSecret,
  };
  for (const [key, value] of Object.entries(files)) await writeFile(join(credentialsDir, key), value);
  return {
    CLOUDCONNECT_INTEGRATION_SPEC: JSON.stringify(input.spec),
    CLOUDCONNECT_SITE_NUMBER: input.siteNumber,
    CLOUDCONNECT_SITE_TIME_ZONE: input.siteTimeZone,
    CLOUDCONNECT_CREDENTIALS_DIR: credentialsDir,
    CLOUDCONNECT_CA_BUNDLE_FILE: join(input.dir, 'ca.crt'),
    OCEAN_CA_BUNDLE: input.tls.ca,
    VAULT_ADDR: 'https://127.0.0.1:1',
    VAULT_ROLE: 'cloudconnect-clinic-clinic',
    SEK_MOUNT: 'cloudconnect',
    SEK_PATH: 'sites/clinic/clinic/sek',
    OCEAN_API_URL: input.ocean.url,
    TERMINATION_MESSAGE_PATH: join(input.dir, `${name}.termination-log`),
    EGRESS_ALLOW_CIDRS: LOOPBACK_ALLOW_CIDRS,
  };
}

/** Worker dependencies that log nowhere, with the clock at `now` and the SEK given. */
export function quietDeps(now: string, sek: string): WorkerDeps {
  return {
    logger: createLogger({ stream: new PassThrough() }),
    stdout: new PassThrough(),
    stderr: new PassThrough(),
    now: () => new Date(now),
    sleep: async () => undefined,
    sekSource: async () => sek,
  };
}
