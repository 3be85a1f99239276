import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { leakedForms } from '../../../test/security/leak-forms.ts';
import { type AccuroSimulator, start as startAccuro } from '../../../test/simulators/accuro.ts';
import { LOOPBACK_ALLOW_CIDRS } from '../../../test/simulators/egress.ts';
import { type FhirSimulator, start as startFhir } from '../../../test/simulators/fhir.ts';
import { type OceanSimulator, start as startOcean } from '../../../test/simulators/ocean.ts';
import { decryptBatch } from '../../internal/sek/crypto.ts';
import { configFromEnv, oceanCredentials, readCredentialsDir, vaultSekSource, WorkerError } from '../../internal/sitepod/pod-env.ts';
import { createLogger } from '../../runtime/logger.ts';
import { REDACTED, redactor } from '../../runtime/redact.ts';
import { parseCliArgs, runWorker, type WorkerDeps } from './cli.ts';

const SEK = 'cli-test-sek-0e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b';
const SITE = '777';
const NOW = new Date('2030-05-06T08:00:00Z');
const volume = { providers: 3, patients: 100, appointmentsPerDay: 30, days: 2, startDate: '2030-05-06' };
const root = new URL('../../..', import.meta.url).pathname;

let accuro: AccuroSimulator;
let fhir: FhirSimulator;
let ocean: OceanSimulator;
let dir: string;

beforeAll(async () => {
  [accuro, fhir, ocean] = await Promise.all([startAccuro({ seed: 9, volume }), startFhir({ seed: 9, volume }), startOcean({ seed: 9 })]);
  dir = await mkdtemp(join(tmpdir(), 'cloudconnect-worker-'));
});
afterAll(async () => {
  await Promise.all([accuro.stop(), fhir.stop(), ocean.stop()]);
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  accuro.clearFaults();
  ocean.clearFaults();
  ocean.batches.length = 0;
});

/** A directory laid out as the kubelet mounts a Secret: keys are links into `..data`, itself a link to a timestamped folder. */
async function secretDir(name: string, data: Record<string, string>): Promise<string> {
  const base = join(dir, name);
  const stamped = join(base, '..2030_05_06_00_00_00.000000001');
  await mkdir(stamped, { recursive: true });
  for (const [key, value] of Object.entries(data)) await writeFile(join(stamped, key), value);
  await symlink('..2030_05_06_00_00_00.000000001', join(base, '..data'));
  for (const key of Object.keys(data)) await symlink(join('..data', key), join(base, key));
  return base;
}

const accuroSpec = () => ({
  siteRef: { name: 'clinic' },
  emr: { type: 'Accuro', accuro: { tenantId: accuro.tenantId, apiUrl: accuro.url, credentialsSecretRef: { name: 'accuro-credentials' } } },
  settings: { scheduleDaysToSync: 1 },
});

async function podEnv(spec: unknown, credentials: Record<string, string>, extra: Record<string, string> = {}): Promise<NodeJS.ProcessEnv> {
  const name = `run-${Math.random().toString(36).slice(2)}`;
  return {
    CLOUDCONNECT_INTEGRATION_SPEC: JSON.stringify(spec),
    CLOUDCONNECT_SITE_NUMBER: SITE,
    // The simulators' clinic is in Toronto (their default), and so is this site.
    CLOUDCONNECT_SITE_TIME_ZONE: 'America/Toronto',
    CLOUDCONNECT_CREDENTIALS_DIR: await secretDir(name, credentials),
    VAULT_ADDR: 'http://127.0.0.1:1',
    VAULT_AUTH_MOUNT: 'kubernetes',
    VAULT_ROLE: 'cloudconnect-clinic-clinic',
    VAULT_SA_TOKEN_FILE: join(dir, 'no-such-token'),
    SEK_MOUNT: 'cloudconnect',
    SEK_PATH: 'sites/clinic/clinic/sek',
    OCEAN_API_URL: ocean.url,
    TERMINATION_MESSAGE_PATH: join(dir, `${name}.termination-log`),
    // The simulators listen on loopback, which the egress sandbox refuses unless allowed.
    EGRESS_ALLOW_CIDRS: LOOPBACK_ALLOW_CIDRS,
    ...extra,
  };
}

const oceanKeys = () => ({ oceanClientId: ocean.credentials.clientId, oceanClientSecret: ocean.credentials.clientSecret });

function capture(): { deps: WorkerDeps; logs: () => string; stdout: () => string } {
  const logStream = new PassThrough();
  const out = new PassThrough();
  let logText = '';
  let outText = '';
  logStream.on('data', (c: Buffer) => (logText += c.toString()));
  out.on('data', (c: Buffer) => (outText += c.toString()));
  return {
    deps: {
      logger: createLogger({ stream: logStream }),
      stdout: out,
      stderr: new PassThrough(),
      now: () => NOW,
      sleep: async () => undefined,
      sekSource: async () => SEK,
    },
    logs: () => logText,
    stdout: () => outText,
  };
}

const ARGS = ['--integration', 'clinic/accuro', '--type', 'Full', '--run', 'accuro-full-29000000'];

describe('cloudconnect-sync arguments', () => {
  const now = new Date('2030-05-06T00:00:00Z');
  it('reads --integration, --type and --run', () => {
    expect(parseCliArgs(ARGS, now)).toEqual({
      target: 'integration',
      namespace: 'clinic',
      name: 'accuro',
      type: 'Full',
      run: 'accuro-full-29000000',
      help: false,
    });
  });
  it('reads --site for the reminders of a site without an integrated EMR', () => {
    expect(parseCliArgs(['--site', 'clinic/oak', '--type', 'Reminders', '--run', 'r1'], now)).toEqual({
      target: 'site',
      namespace: 'clinic',
      name: 'oak',
      type: 'Reminders',
      run: 'r1',
      help: false,
    });
  });
  it('names a local run after the time when --run is absent', () => {
    expect(parseCliArgs(['--integration', 'a/b', '--type', 'Appointments'], now).run).toBe('local-20300506t000000');
  });
  const bad: [string, string[], RegExp][] = [
    ['refuses a missing --integration', ['--type', 'Full'], /--integration is required/],
    ['refuses an integration without a namespace', ['--integration', 'accuro', '--type', 'Full'], /<namespace>\/<name>/],
    ['refuses an integration with two slashes', ['--integration', 'a/b/c', '--type', 'Full'], /<namespace>\/<name>/],
    ['refuses an unknown type', ['--integration', 'a/b', '--type', 'full'], /Full, Appointments or Reminders/],
    ['refuses an unknown option', ['--integration', 'a/b', '--type', 'Full', '--office', '1'], /Unknown option/],
    ['refuses --integration together with --site', ['--integration', 'a/b', '--site', 'a/c', '--type', 'Reminders'], /exclude each other/],
    ['refuses a sync of a site without an integrated EMR', ['--site', 'a/c', '--type', 'Full'], /--site runs only --type Reminders/],
    ['refuses a site that is not <namespace>/<name>', ['--site', 'c', '--type', 'Reminders'], /--site must be <namespace>\/<name>/],
    ['refuses a positional argument', ['--integration', 'a/b', '--type', 'Full', 'extra'], /positional/],
    ['refuses a run name that is not a Job name', ['--integration', 'a/b', '--type', 'Full', '--run', 'a b'], /--run/],
  ];
  for (const [name, argv, message] of bad) {
    it(name, () => {
      expect(() => parseCliArgs(argv, now)).toThrow(message);
    });
  }
});

describe('cloudconnect-sync environment', () => {
  it('reads the Job environment and fills the spec defaults', async () => {
    const env = await podEnv(accuroSpec(), {});
    const config = configFromEnv({ ...env, CLOUDCONNECT_INTEGRATION_SPEC: JSON.stringify({ ...accuroSpec(), settings: undefined }) });
    expect(config).toMatchObject({
      siteNumber: SITE,
      oceanApiUrl: ocean.url,
      vault: { address: 'http://127.0.0.1:1', authMount: 'kubernetes', role: 'cloudconnect-clinic-clinic' },
      sek: { mount: 'cloudconnect', path: 'sites/clinic/clinic/sek' },
    });
    expect(config.spec.settings?.scheduleDaysToSync).toBe(1);
    expect(config.vault.token).toBeUndefined();
  });

  it('names every missing variable at once', () => {
    expect(() => configFromEnv({})).toThrow(
      'CLOUDCONNECT_INTEGRATION_SPEC is not set; CLOUDCONNECT_SITE_NUMBER is not set; OCEAN_API_URL is not set; VAULT_ADDR is not set; SEK_MOUNT is not set; SEK_PATH is not set; VAULT_ROLE is not set (or VAULT_TOKEN, outside a pod)',
    );
  });

  it('accepts VAULT_TOKEN instead of a role outside a pod, and registers it for redaction', async () => {
    const env = await podEnv(accuroSpec(), {}, { VAULT_ROLE: '', VAULT_TOKEN: 'local-dev-root-token-4711' });
    expect(configFromEnv(env).vault.token).toBe('local-dev-root-token-4711');
    expect(redactor.string('token=local-dev-root-token-4711')).toBe(`token=${REDACTED}`);
  });

  it('refuses a spec that is not JSON, and a None integration', async () => {
    const env = await podEnv(accuroSpec(), {});
    expect(() => configFromEnv({ ...env, CLOUDCONNECT_INTEGRATION_SPEC: '{' })).toThrow(/not JSON/);
    expect(() =>
      configFromEnv({ ...env, CLOUDCONNECT_INTEGRATION_SPEC: JSON.stringify({ siteRef: { name: 'x' }, emr: { type: 'None' } }) }),
    ).toThrow(/nothing to sync/);
  });

  it('reads a mounted Secret key by key, skipping the kubelet links, and registers the values for redaction', async () => {
    const path = await secretDir('creds', { clientId: 'id-123456', clientSecret: 'secret-value-987654\n' });
    expect(await readCredentialsDir(path)).toEqual({ clientId: 'id-123456', clientSecret: 'secret-value-987654\n' });
    expect(redactor.string('leak secret-value-987654\n!')).toBe(`leak ${REDACTED}!`);
    expect(await readCredentialsDir(join(dir, 'absent'))).toEqual({});
    expect(await readCredentialsDir(undefined)).toEqual({});
  });

  it('takes the Ocean client from the credentials first, then from the environment', () => {
    const files = { oceanClientId: 'file-id-1234', oceanClientSecret: 'file-secret-1234' };
    const env = { OCEAN_CLIENT_ID: 'env-id-1234', OCEAN_CLIENT_SECRET: 'env-secret-1234' };
    expect(oceanCredentials(files, env)).toEqual({ clientId: 'file-id-1234', clientSecret: 'file-secret-1234' });
    expect(oceanCredentials({}, env)).toEqual({ clientId: 'env-id-1234', clientSecret: 'env-secret-1234' });
    expect(() => oceanCredentials({}, {})).toThrow(/oceanClientId and oceanClientSecret/);
  });

  it("takes the Ocean client from the site's Ocean Secret alone when the site names one", () => {
    const emrFiles = { oceanClientId: 'emr-id-1234', oceanClientSecret: 'emr-secret-1234' };
    const oceanFiles = { clientId: 'site-id-1234\n', clientSecret: 'site-secret-1234' };
    expect(oceanCredentials(emrFiles, {}, oceanFiles)).toEqual({ clientId: 'site-id-1234', clientSecret: 'site-secret-1234' });
    expect(() => oceanCredentials(emrFiles, {}, { clientId: 'site-id-1234' })).toThrow(/spec.ocean.credentialsSecretRef/);
  });
});

describe('reading the SEK from Vault', () => {
  it('says VaultLoginFailed when the projected token is missing', async () => {
    const config = configFromEnv(await podEnv(accuroSpec(), {}));
    await expect(vaultSekSource(config)()).rejects.toMatchObject({ name: 'WorkerError', reason: 'VaultLoginFailed' });
  });

  it('says VaultUnavailable when Vault does not answer', async () => {
    const config = configFromEnv(
      await podEnv(accuroSpec(), {}, { VAULT_ADDR: await closedPortUrl(), VAULT_TOKEN: 'hvs.unreachable-vault-token-123456' }),
    );
    await expect(vaultSekSource(config)()).rejects.toMatchObject({ name: 'WorkerError', reason: 'VaultUnavailable' });
  });
});

describe('a worker run (in process, SEK injected)', () => {
  it('syncs Accuro to Ocean, logs progress without PHI or secrets, and writes the result to the termination message', async () => {
    const env = await podEnv(accuroSpec(), { ...accuro.credentials, ...oceanKeys() });
    const { deps, logs, stdout } = capture();
    const { exitCode, result } = await runWorker(ARGS, env, deps);
    expect(exitCode).toBe(0);
    expect(result).toMatchObject({
      result: 'Succeeded',
      type: 'Full',
      providers: 3,
      appointments: 30,
      integration: 'clinic/accuro',
      run: 'accuro-full-29000000',
    });
    const termination = JSON.parse(await readFile(env.TERMINATION_MESSAGE_PATH as string, 'utf8')) as Record<string, unknown>;
    expect(termination).toEqual(result);
    expect(JSON.parse(stdout().trim())).toEqual(result);
    expect(JSON.stringify(termination).length).toBeLessThan(4096); // the kubelet's limit for a termination message

    const text = logs();
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l['message'])).toEqual(
      expect.arrayContaining(['sync starting', 'SEK read', expect.stringMatching(/^records \d+\/\d+$/), 'sync succeeded']),
    );
    expect(lines.find((l) => l['message'] === 'SEK read')).toMatchObject({ sekFingerprint: expect.stringMatching(/^[0-9a-f]{16}$/) });
    for (const secret of [SEK, ...Object.values(accuro.credentials), ...Object.values(ocean.credentials)])
      expect(text).not.toContain(secret);
    expect(text).not.toContain('-Sim');
    for (let i = 0; i < volume.patients; i++) expect(text).not.toContain(accuro.data.patient(i).healthNumber);

    // What Ocean got decrypts with the SEK the worker was given.
    const body = ocean.batches[0]?.body as { batchId: string; kind: 'provider'; envelope: unknown };
    expect(decryptBatch(body.envelope, SEK, SITE, { batchId: body.batchId, kind: 'provider' }).records).toHaveLength(3);
    expect(body.batchId).toBe('accuro-full-29000000:provider:1');
  });

  it('finishes a listing the EMR rate-limits mid-way: each 429 is waited out in the adapter and the listing resumes at the refused page', async () => {
    // 150 appointments in the window (three pages of 50), and an EMR that takes 2 calls per 10 s of its clock,
    // which the run's sleep moves: restarting the listing from page 1 after each 429 would never reach page 3.
    let clock = Date.now();
    const busy = await startAccuro({
      seed: 9,
      volume: { ...volume, appointmentsPerDay: 150 },
      now: () => new Date(clock),
      limits: { rateLimit: { requests: 2, windowSeconds: 10 } },
    });
    try {
      const spec = {
        siteRef: { name: 'clinic' },
        emr: {
          type: 'Accuro',
          accuro: { tenantId: busy.tenantId, apiUrl: busy.url, credentialsSecretRef: { name: 'accuro-credentials' } },
        },
        settings: { scheduleDaysToSync: 1 },
      };
      const env = await podEnv(spec, { ...busy.credentials, ...oceanKeys() });
      const sleeps: number[] = [];
      const { deps } = capture();
      const sleep = async (ms: number) => {
        sleeps.push(ms);
        clock += ms;
      };
      const { exitCode, result } = await runWorker(['--integration', 'clinic/accuro', '--type', 'Appointments', '--run', 'busy-1'], env, {
        ...deps,
        sleep,
      });
      expect({ exitCode, result: result?.result, appointments: result?.appointments }).toEqual({
        exitCode: 0,
        result: 'Succeeded',
        appointments: 150,
      });
      const refused = busy.state.limitCounter.refused;
      expect(refused).toBeGreaterThan(0);
      expect(sleeps).toHaveLength(refused);
      // Every page was fetched once: the successful listing calls are the four pages (the last one empty).
      expect(busy.requests.filter((r) => r.path === '/v2/materials/appointments' && r.status === 200)).toHaveLength(4);
    } finally {
      await busy.stop();
    }
  });

  it('builds the adapter the spec names: a FHIR EMR', async () => {
    const spec = {
      siteRef: { name: 'clinic' },
      emr: { type: 'FHIR', fhir: { baseUrl: fhir.url, credentialsSecretRef: { name: 'fhir' } } },
    };
    const env = await podEnv(spec, { ...fhir.credentials, ...oceanKeys() });
    const { deps } = capture();
    const { exitCode, result } = await runWorker(
      ['--integration', 'clinic/fhir', '--type', 'Appointments', '--run', 'fhir-appointments-1'],
      env,
      deps,
    );
    expect({ exitCode, result: result?.result, appointments: result?.appointments }).toEqual({
      exitCode: 0,
      result: 'Succeeded',
      appointments: 30,
    });
  });

  const failures: {
    name: string;
    setup: () => void;
    spec?: () => unknown;
    credentials?: () => Record<string, string>;
    deps?: Partial<WorkerDeps>;
    reason: string;
  }[] = [
    {
      name: 'reports Expired when the EMR calls every token expired',
      setup: () => accuro.setFault({ tokenExpired: true }),
      reason: 'Expired',
    },
    {
      name: 'reports EmrUnreachable when the EMR answers 503',
      setup: () => accuro.setFault({ serverError: 503 }),
      reason: 'EmrUnreachable',
    },
    {
      name: 'reports InvalidCredentials when the Secret lacks an EMR key',
      setup: () => undefined,
      credentials: () => ({ ...accuro.credentials, subscriptionKey: '', ...oceanKeys() }),
      reason: 'InvalidCredentials',
    },
    {
      name: 'reports InvalidConfiguration when the spec lacks its EMR section',
      setup: () => undefined,
      spec: () => ({ siteRef: { name: 'clinic' }, emr: { type: 'Accuro' } }),
      reason: 'InvalidConfiguration',
    },
    {
      name: 'reports InvalidConfiguration when the Ocean client is missing',
      setup: () => undefined,
      credentials: () => ({ ...accuro.credentials }),
      reason: 'InvalidConfiguration',
    },
    {
      name: 'reports SekAccessDenied when Vault refuses the SEK',
      setup: () => undefined,
      deps: {
        sekSource: () =>
          Promise.reject(new WorkerError('SekAccessDenied', 'Vault denied reading the SEK at cloudconnect/sites/clinic/clinic/sek')),
      },
      reason: 'SekAccessDenied',
    },
  ];
  for (const f of failures) {
    it(f.name, async () => {
      f.setup();
      const env = await podEnv(f.spec?.() ?? accuroSpec(), f.credentials?.() ?? { ...accuro.credentials, ...oceanKeys() });
      const { deps, logs } = capture();
      const { exitCode } = await runWorker(ARGS, env, { ...deps, retry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 }, ...f.deps });
      expect(exitCode).toBe(1);
      const termination = JSON.parse(await readFile(env.TERMINATION_MESSAGE_PATH as string, 'utf8')) as Record<string, unknown>;
      expect(termination).toMatchObject({ result: 'Failed', errorReason: f.reason, type: 'Full', integration: 'clinic/accuro' });
      expect(typeof termination['message']).toBe('string');
      for (const secret of Object.values(accuro.credentials)) expect(logs() + JSON.stringify(termination)).not.toContain(secret);
    });
  }

  it('reads the SEK again when Vault resets the connection for a moment, and the run succeeds', async () => {
    const env = await podEnv(accuroSpec(), { ...accuro.credentials, ...oceanKeys() });
    const sleeps: number[] = [];
    let reads = 0;
    const { deps } = capture();
    const { exitCode } = await runWorker(ARGS, env, {
      ...deps,
      sleep: async (ms) => void sleeps.push(ms),
      sekSource: async () => {
        reads++;
        if (reads === 1) throw new WorkerError('VaultUnavailable', 'Vault is unavailable: ECONNRESET');
        return SEK;
      },
    });
    expect(exitCode).toBe(0);
    expect(reads).toBe(2);
    expect(sleeps[0]).toBe(1000);
  });

  it('gives up on Vault after the retry policy, with VaultUnavailable', async () => {
    const env = await podEnv(accuroSpec(), { ...accuro.credentials, ...oceanKeys() });
    let reads = 0;
    const { deps } = capture();
    const { exitCode } = await runWorker(ARGS, env, {
      ...deps,
      sleep: async () => undefined,
      sekSource: async () => {
        reads++;
        throw new WorkerError('VaultUnavailable', 'Vault is unavailable: ECONNRESET');
      },
    });
    expect(exitCode).toBe(1);
    expect(reads).toBe(3);
    const written = JSON.parse(await readFile(env.TERMINATION_MESSAGE_PATH as string, 'utf8')) as Record<string, unknown>;
    expect(written).toMatchObject({ result: 'Failed', errorReason: 'VaultUnavailable' });
  });

  it('refuses an EMR on an address the operator does not allow (EndpointNotAllowed), and does not retry it', async () => {
    // The operator allows only a private range here, not the simulator's loopback.
    const env = await podEnv(accuroSpec(), { ...accuro.credentials, ...oceanKeys() }, { EGRESS_ALLOW_CIDRS: '10.0.0.0/8' });
    const sleeps: number[] = [];
    const { deps } = capture();
    const { exitCode } = await runWorker(ARGS, env, { ...deps, sleep: async (ms) => void sleeps.push(ms) });
    expect(exitCode).toBe(1);
    const written = JSON.parse(await readFile(env.TERMINATION_MESSAGE_PATH as string, 'utf8')) as Record<string, unknown>;
    expect(written).toMatchObject({ result: 'Failed', errorReason: 'EndpointNotAllowed', message: expect.stringContaining('loopback') });
    expect(sleeps).toEqual([]);
    expect(ocean.batches).toHaveLength(0);
  });

  it('reports InvalidCredentials quoting a token endpoint that echoes a 4-character password, with the password in no form', async () => {
    accuro.setFault({ echoCredentials: true });
    const password = 'w"1%';
    const env = await podEnv(accuroSpec(), { ...accuro.credentials, apiPassword: password, ...oceanKeys() });
    const { deps, logs } = capture();
    const { exitCode } = await runWorker(ARGS, env, { ...deps, retry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 } });
    expect(exitCode).toBe(1);
    const written = await readFile(env.TERMINATION_MESSAGE_PATH as string, 'utf8');
    expect(JSON.parse(written)).toMatchObject({
      errorReason: 'InvalidCredentials',
      message: expect.stringContaining('the endpoint says:'),
    });
    for (const secret of [password, accuro.credentials.clientSecret]) expect(leakedForms(`${logs()}\n${written}`, secret)).toEqual([]);
  });
});

async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(root, 'operator/worker/main.ts'), ...args],
      { env: { PATH: process.env.PATH, ...env }, cwd: root, timeout: 30_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr });
      },
    );
  });
}

describe('cloudconnect-sync as a child process', () => {
  it('exits 2 with the usage on bad arguments', async () => {
    const termination = join(dir, 'usage.termination-log');
    const out = await runCli(['--type', 'Sometimes'], { TERMINATION_MESSAGE_PATH: termination });
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('--integration is required; --type must be Full, Appointments or Reminders, got "Sometimes"');
    expect(out.stderr).toContain(
      'usage: cloudconnect-sync --integration <namespace>/<name> --type Full|Appointments|Reminders [--run <name>]',
    );
    expect(JSON.parse(await readFile(termination, 'utf8'))).toMatchObject({ result: 'Failed', errorReason: 'InvalidArguments' });
  });

  it('exits 1 with VaultUnavailable when Vault does not answer, logging JSON lines without secrets', async () => {
    const env = await podEnv(
      accuroSpec(),
      { ...accuro.credentials, ...oceanKeys() },
      { VAULT_ADDR: await closedPortUrl(), VAULT_TOKEN: 'hvs.child-process-token-abcdef123456' },
    );
    const out = await runCli(ARGS, env);
    expect(out.code).toBe(1);
    const termination = JSON.parse(await readFile(env.TERMINATION_MESSAGE_PATH as string, 'utf8')) as Record<string, unknown>;
    expect(termination).toMatchObject({
      result: 'Failed',
      errorReason: 'VaultUnavailable',
      integration: 'clinic/accuro',
      run: 'accuro-full-29000000',
    });
    expect(JSON.parse(out.stdout.trim())).toEqual(termination);
    const lines = out.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.at(-1)).toMatchObject({ level: 'error', message: 'sync failed', errorReason: 'VaultUnavailable' });
    for (const secret of [...Object.values(accuro.credentials), ...Object.values(ocean.credentials), 'child-process-token-abcdef123456'])
      expect(out.stderr).not.toContain(secret);
  }, 30_000); // the worker retries Vault (its retry policy) before it gives up
});
