// NATS over TLS (the chart's nats.tls and relay.natsCaSecret), against a real nats-server serving a
// certificate of a private CA with authentication on: the relay's own connection options
// (operator/cmd/relay/cli.ts relayConnectOptions, NATS_CA as the operator passes it) connect and
// publish; a client that does not trust that CA, or speaks plain NATS, does not get in.
import { createConnection } from 'node:net';
import { jetstream } from '@nats-io/jetstream';
import { connect, credsAuthenticator } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relayConfigFromEnv, relayConnectOptions } from '../../operator/cmd/relay/cli.ts';
import { relayQueueNames } from '../../operator/internal/relayqueue/contract.ts';
import { ensureIntegrationStreams, ensureStatusBucket } from '../../operator/internal/relayqueue/queue.ts';
import { SITE_POD_ENV } from '../../operator/internal/sitepod/test-helpers.ts';
import { type NatsServer, startNatsServer } from '../integration/nats.ts';
import { makeTestTls, type TestTls } from '../integration/tls.ts';

const I = { namespace: 'clinic-tls', integration: 'tls-accuro' };
let nats: NatsServer;
let tls: TestTls;

const refusal = (attempt: Promise<{ close(): Promise<void> }>) =>
  attempt.then(
    async (nc) => {
      await nc.close();
      return undefined;
    },
    (e: unknown) => e as Error,
  );

beforeAll(async () => {
  tls = makeTestTls();
  nats = await startNatsServer({ name: 'nats-tls', tls: { cert: tls.cert, key: tls.key } });
  expect(nats.url).toMatch(/^tls:\/\//);
  const admin = await connect({
    servers: nats.url,
    authenticator: credsAuthenticator(new TextEncoder().encode(await nats.operatorCreds())),
    tls: { ca: tls.ca },
  });
  await ensureStatusBucket(jetstream(admin));
  await ensureIntegrationStreams(jetstream(admin), I.namespace, I.integration);
  await admin.close();
}, 120_000);

afterAll(async () => {
  await nats?.dispose();
});

describe('NATS over TLS', () => {
  it('lets the relay in with the CA the operator passes it (NATS_CA), and it stores a message', async () => {
    const { settings } = relayConfigFromEnv({
      ...SITE_POD_ENV,
      NATS_URL: nats.url,
      NATS_CREDS_PATH: 'cloudconnect/clinic-tls/site/relay/tls-accuro/nats',
      RELAY_API_KEY_PATH: 'cloudconnect/clinic-tls/site/relay/tls-accuro',
      NATS_CA: tls.ca,
    });
    const nc = await connect(relayConnectOptions(I.namespace, I.integration, settings, await nats.relayCreds(I.namespace, I.integration)));
    try {
      expect(nc.info?.tls_required).toBe(true);
      const ack = await jetstream(nc).publish(relayQueueNames(I.namespace, I.integration).subject, new Uint8Array([1]));
      expect(ack.stream).toBe(relayQueueNames(I.namespace, I.integration).workStream);
    } finally {
      await nc.close();
    }
  });

  it('refuses a client that does not trust the CA, even with valid credentials', async () => {
    const creds = await nats.relayCreds(I.namespace, I.integration);
    const error = await refusal(
      connect({ servers: nats.url, reconnect: false, authenticator: credsAuthenticator(new TextEncoder().encode(creds)) }),
    );
    expect(error?.message ?? '').toMatch(/certificate|self.signed|unable to verify/i);
  });

  it('refuses a plain (non-TLS) client: the server closes the connection after its INFO, before any PONG', async () => {
    // A raw socket speaking the NATS protocol in cleartext, as a client without TLS would.
    let timedOut = false;
    const answer = await new Promise<string>((resolve, reject) => {
      let text = '';
      const socket = createConnection({ host: '127.0.0.1', port: nats.port }, () => {
        socket.write('CONNECT {"verbose":false,"pedantic":false}\r\nPING\r\n');
      });
      socket.on('data', (d: Buffer) => (text += d.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      socket.setTimeout(15_000, () => {
        timedOut = true;
        socket.destroy();
      });
    });
    expect(answer).toMatch(/"tls_required":true/);
    expect(timedOut, 'the server kept the cleartext connection open').toBe(false);
    expect(answer).not.toMatch(/PONG|\+OK/);
  });
});
