// NATS per tenant, tried against a real nats-server with authentication on (test/integration/nats.ts:
// the operator/account JWT chain of operator/internal/relayqueue/nats-trust.ts). Integration A's
// relay holds A's NATS user (what the operator mints into Vault, nats-auth.ts); each attack it could
// make on integration B, on the shared streams or on the store is tried, the refusal is asserted,
// and B's messages, consumer, status record and intake are checked to be untouched. Also: no
// anonymous or foreign-signed user connects, one integration filling its own limit leaves another's
// intake working, the account cannot be over-committed, and dead letters are bounded by age and size.
import { randomBytes } from 'node:crypto';
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { connect, credsAuthenticator, headers, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY_VERSION_HEADER, relayQueueNames, STATUS_BUCKET, statusKey } from '../../operator/internal/relayqueue/contract.ts';
import { mintRelayCreds } from '../../operator/internal/relayqueue/nats-auth.ts';
import { createNatsTrust } from '../../operator/internal/relayqueue/nats-trust.ts';
import {
  ensureIntegrationStreams,
  ensureRelayConsumer,
  ensureStatusBucket,
  openDeliveryBucket,
  openStatusBucket,
  type RelayQueueLimits,
} from '../../operator/internal/relayqueue/queue.ts';
import { type NatsServer, startNatsServer } from '../integration/nats.ts';
import { eventually } from '../integration/operator-process.ts';

const MiB = 1024 * 1024;
const A = { namespace: 'clinic-a', integration: 'a-accuro' };
const B = { namespace: 'clinic-b', integration: 'b-accuro' };
const nA = relayQueueNames(A.namespace, A.integration);
const nB = relayQueueNames(B.namespace, B.integration);
/** Small limits so that filling one takes a few publishes; dead letters live 3 s. */
const LIMITS: RelayQueueLimits = { workMaxBytes: 1 * MiB, workMaxMessages: 1000, deadMaxBytes: 1 * MiB, deadMaxAgeMs: 3000 };
/** The account's whole store: the status bucket (64 MiB) and two integrations (2 streams + 1 MiB of delivery records each) fit, a third does not. */
const ACCOUNT_STORAGE = 64 * MiB + 6 * MiB + 512 * 1024;

let nats: NatsServer;
let admin: NatsConnection;
let adminJs: JetStreamClient;
let jsm: JetStreamManager;
let ncA: NatsConnection;
let jsA: JetStreamClient;
let kvA: KV;
let ncB: NatsConnection;
let jsB: JetStreamClient;
let kvB: KV;
const B_RECORD = JSON.stringify({ pending: 1, deliveredTotal: 7, deadLettered: 0, updatedAt: new Date().toISOString() });
/** B's delivery record of one message: its note is in B's EMR. */
const B_DELIVERY_KEY = 'ocean-b0000000000000000000000000000000000000001';
const B_DELIVERY = JSON.stringify({ v: 1, steps: { note: { state: 'done', id: '41', at: new Date().toISOString() } } });

const message = (size = 64) => {
  const h = headers();
  h.set(KEY_VERSION_HEADER, '1');
  return { data: randomBytes(size), opts: { headers: h } };
};

/** The promise is refused by the server for lack of permission (not a timeout, not another error). */
async function refused(attempt: Promise<unknown>): Promise<void> {
  const error = await attempt.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(error, 'the server accepted it').toBeInstanceOf(Error);
  expect(`${error?.name}: ${error?.message} ${String((error as { cause?: unknown })?.cause ?? '')}`).toMatch(/permission/i);
}

/** B's message is still in B's stream, and B's own consumer hands it to B. */
async function bStillHasItsMessage(seq: number): Promise<void> {
  const info = await jsm.streams.info(nB.workStream);
  expect(info.state.messages).toBeGreaterThanOrEqual(1);
  expect((await jsm.streams.getMessage(nB.workStream, { seq }))?.seq).toBe(seq);
}

beforeAll(async () => {
  nats = await startNatsServer({ name: 'nats-tenancy', storage: ACCOUNT_STORAGE });
  admin = await nats.connectAs(await nats.operatorCreds());
  adminJs = jetstream(admin);
  jsm = await jetstreamManager(admin);
  await ensureStatusBucket(adminJs);
  for (const i of [A, B]) await ensureIntegrationStreams(adminJs, i.namespace, i.integration, LIMITS);
  ncA = await nats.connectAs(await nats.relayCreds(A.namespace, A.integration), A);
  ncB = await nats.connectAs(await nats.relayCreds(B.namespace, B.integration), B);
  jsA = jetstream(ncA);
  jsB = jetstream(ncB);
  // Each relay as it starts: its own consumer, its status bucket bound, its record written.
  await ensureRelayConsumer(jsA, A.namespace, A.integration);
  await ensureRelayConsumer(jsB, B.namespace, B.integration);
  kvA = await openStatusBucket(jsA);
  kvB = await openStatusBucket(jsB);
  await kvB.put(statusKey(B.namespace, B.integration), B_RECORD);
  await (await openDeliveryBucket(jsB, B.namespace, B.integration)).put(B_DELIVERY_KEY, B_DELIVERY);
}, 120_000);

afterAll(async () => {
  for (const nc of [ncA, ncB, admin]) await nc?.close().catch(() => undefined);
  await nats?.dispose();
});

describe('who may connect', () => {
  it('refuses an anonymous connection', async () => {
    const error = await connect({ servers: nats.url, reconnect: false }).then(
      async (nc) => {
        await nc.close();
        return undefined;
      },
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/authorization violation/i);
  });

  it("refuses a user signed by another installation's account signing key", async () => {
    const foreign = await createNatsTrust({ storage: MiB });
    const { creds } = await mintRelayCreds(foreign.signer, A.namespace, A.integration);
    const error = await connect({
      servers: nats.url,
      reconnect: false,
      authenticator: credsAuthenticator(new TextEncoder().encode(creds)),
    }).then(
      async (nc) => {
        await nc.close();
        return undefined;
      },
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/authorization violation/i);
  });

  it("refuses B's user JWT presented with A's seed (the JWT alone is no bearer token)", async () => {
    const credsA = await nats.relayCreds(A.namespace, A.integration);
    const credsB = await nats.relayCreds(B.namespace, B.integration);
    const jwtB = /-----BEGIN NATS USER JWT-----\n(.+)\n/.exec(credsB)?.[1] ?? '';
    const forged = credsA.replace(/-----BEGIN NATS USER JWT-----\n.+\n/, `-----BEGIN NATS USER JWT-----\n${jwtB}\n`);
    expect(forged).toContain(jwtB);
    const error = await connect({
      servers: nats.url,
      reconnect: false,
      authenticator: credsAuthenticator(new TextEncoder().encode(forged)),
    }).then(
      async (nc) => {
        await nc.close();
        return undefined;
      },
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/authorization violation/i);
  });
});

describe("integration A's relay user against integration B", () => {
  let bSeq: number;

  beforeAll(async () => {
    const m = message();
    bSeq = (await jsB.publish(nB.subject, m.data, m.opts)).seq;
  });

  it("cannot publish to B's work subject: B's stream gets nothing", async () => {
    const before = (await jsm.streams.info(nB.workStream)).state.messages;
    const m = message();
    await refused(jsA.publish(nB.subject, m.data, m.opts));
    expect((await jsm.streams.info(nB.workStream)).state.messages).toBe(before);
  });

  it("cannot publish to B's dead-letter subject", async () => {
    const m = message();
    await refused(jsA.publish(nB.deadSubject, m.data, m.opts));
    expect((await jsm.streams.info(nB.deadStream)).state.messages).toBe(0);
  });

  it("cannot subscribe to B's subject, nor to every subject, nor to other users' replies", async () => {
    for (const subject of [nB.subject, 'cloudconnect.>', '>', '_INBOX.>', `${nB.inboxPrefix}.>`]) {
      const sub = ncA.subscribe(subject);
      const error = await (async () => {
        try {
          for await (const _ of sub) return undefined;
        } catch (e) {
          return e as Error;
        }
        return await sub.closed.then(
          () => undefined,
          (e: unknown) => e as Error,
        );
      })();
      expect(error?.message, subject).toMatch(/permission/i);
    }
    await bStillHasItsMessage(bSeq);
  });

  it("cannot bind to or pull from B's durable consumer", async () => {
    await refused(jsA.consumers.get(nB.workStream, nB.consumer));
    await refused(ncA.request(`$JS.API.CONSUMER.MSG.NEXT.${nB.workStream}.${nB.consumer}`, JSON.stringify({ batch: 1 })));
    await bStillHasItsMessage(bSeq);
    // B's own relay still gets it.
    const consumer = await jsB.consumers.get(nB.workStream, nB.consumer);
    const got = await consumer.next({ expires: 5000 });
    expect(got?.seq).toBe(bSeq);
    got?.nak();
  });

  it("cannot read B's messages through the stream API or a direct get", async () => {
    const jsmA = await jsA.jetstreamManager(false);
    await refused(jsmA.direct.getMessage(nB.workStream, { seq: bSeq }));
    await refused(jsmA.streams.getMessage(nB.workStream, { seq: bSeq }));
    await refused(jsmA.streams.info(nB.workStream));
  });

  it("cannot create a consumer on B's stream", async () => {
    const jsmA = await jsA.jetstreamManager(false);
    await refused(jsmA.consumers.add(nB.workStream, { durable_name: 'spy', ack_policy: 'explicit' as never }));
    const names = [];
    for await (const c of jsm.consumers.list(nB.workStream)) names.push(c.name);
    expect(names).toEqual([nB.consumer]);
  });

  it("cannot write, delete or read B's status record", async () => {
    const forged = JSON.stringify({ pending: 0, deliveredTotal: 7, deadLettered: 0, updatedAt: new Date().toISOString() });
    await refused(kvA.put(statusKey(B.namespace, B.integration), forged));
    await refused(kvA.delete(statusKey(B.namespace, B.integration)));
    await refused(kvA.get(statusKey(B.namespace, B.integration)));
    const kvAdmin = await ensureStatusBucket(adminJs);
    expect((await kvAdmin.get(statusKey(B.namespace, B.integration)))?.string()).toBe(B_RECORD);
  });

  it("cannot forge, erase or read B's delivery records (B would skip a filing, or file it twice)", async () => {
    const bRecordsAsA = await openDeliveryBucket(jsA, B.namespace, B.integration);
    await refused(bRecordsAsA.put(B_DELIVERY_KEY, JSON.stringify({ v: 1, steps: {} })));
    await refused(bRecordsAsA.put('ocean-forged', JSON.stringify({ v: 1, steps: { '': { state: 'done', id: '1', at: '' } } })));
    await refused(bRecordsAsA.delete(B_DELIVERY_KEY));
    await refused(bRecordsAsA.get(B_DELIVERY_KEY));
    const asAdmin = await openDeliveryBucket(adminJs, B.namespace, B.integration);
    expect((await asAdmin.get(B_DELIVERY_KEY))?.string()).toBe(B_DELIVERY);
    expect(await asAdmin.get('ocean-forged')).toBeNull();
  });

  it('writes and reads its own delivery records', async () => {
    const own = await openDeliveryBucket(jsA, A.namespace, A.integration);
    const record = JSON.stringify({ v: 1, steps: { '': { state: 'posting', at: new Date().toISOString() } } });
    await own.create('ocean-a1', record);
    expect((await own.get('ocean-a1'))?.string()).toBe(record);
  });

  it('writes and reads its own status record (the permissions are not simply closed)', async () => {
    const own = JSON.stringify({ pending: 0, deliveredTotal: 1, deadLettered: 0, updatedAt: new Date().toISOString() });
    await kvA.put(statusKey(A.namespace, A.integration), own);
    expect((await kvA.get(statusKey(A.namespace, A.integration)))?.string()).toBe(own);
  });
});

describe("integration A's relay user against the shared store", () => {
  it('cannot delete or purge any stream, its own included, nor the status bucket, nor any delivery-record bucket', async () => {
    const jsmA = await jsA.jetstreamManager(false);
    const streams = [
      nB.workStream,
      nB.deadStream,
      nA.workStream,
      nA.deadStream,
      `KV_${STATUS_BUCKET}`,
      `KV_${nA.deliveryBucket}`,
      `KV_${nB.deliveryBucket}`,
    ];
    for (const stream of streams) {
      await refused(jsmA.streams.delete(stream));
      await refused(jsmA.streams.purge(stream));
    }
    for (const stream of streams) expect((await jsm.streams.info(stream)).config.name).toBe(stream);
    expect((await jsm.streams.info(`KV_${nB.deliveryBucket}`)).state.messages).toBe(1);
  });

  it("cannot raise its own limits, delete B's consumer, or create a stream", async () => {
    const jsmA = await jsA.jetstreamManager(false);
    await refused(jsmA.streams.update(nA.workStream, { max_bytes: 64 * MiB }));
    await refused(jsmA.consumers.delete(nB.workStream, nB.consumer));
    await refused(jsmA.streams.add({ name: 'SPY', subjects: ['spy.>'], max_bytes: MiB }));
    expect((await jsm.streams.info(nA.workStream)).config.max_bytes).toBe(LIMITS.workMaxBytes);
    expect((await jsm.consumers.info(nB.workStream, nB.consumer)).name).toBe(nB.consumer);
  });

  it("cannot ask about the account (every clinic's usage)", async () => {
    const jsmA = await jsA.jetstreamManager(false);
    await refused(jsmA.getAccountInfo());
  });
});

describe('per-integration limits', () => {
  it("A filling its own queue is refused at A's limit, and B's intake still stores", async () => {
    const payload = 100 * 1024;
    let stored = 0;
    let refusal: Error | undefined;
    for (let i = 0; i < 40 && !refusal; i++) {
      const m = message(payload);
      await jsA.publish(nA.subject, m.data, m.opts).then(
        () => stored++,
        (e: unknown) => (refusal = e as Error),
      );
    }
    expect(refusal?.message).toMatch(/maximum bytes exceeded/i);
    expect(stored * payload).toBeLessThanOrEqual(LIMITS.workMaxBytes);
    expect((await jsm.streams.info(nA.workStream)).state.bytes).toBeLessThanOrEqual(LIMITS.workMaxBytes);
    // What B's intake does for a webhook: the publish is stored.
    const m = message(payload);
    const ack = await jsB.publish(nB.subject, m.data, m.opts);
    expect(ack.stream).toBe(nB.workStream);
  });

  it("cannot be over-committed: a third integration's streams do not fit the account's store and the others' stay", async () => {
    const error = await ensureIntegrationStreams(adminJs, 'clinic-c', 'c-accuro', LIMITS).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/insufficient storage/i);
    expect((await jsm.streams.info(nB.workStream)).config.max_bytes).toBe(LIMITS.workMaxBytes);
  });
});

describe('dead letters are bounded', () => {
  it('by size: past the byte limit the oldest dead letters go and the newest stay', async () => {
    const payload = 100 * 1024;
    const published: number[] = [];
    for (let i = 0; i < 20; i++) {
      const m = message(payload);
      published.push((await jsA.publish(nA.deadSubject, m.data, m.opts)).seq);
    }
    const info = await jsm.streams.info(nA.deadStream);
    expect(info.state.bytes).toBeLessThanOrEqual(LIMITS.deadMaxBytes);
    expect(info.state.first_seq).toBeGreaterThan(published[0] ?? 0);
    expect(info.state.last_seq).toBe(published.at(-1));
  });

  it('by age: a dead letter older than the max age is gone', async () => {
    const m = message();
    const { seq } = await jsA.publish(nA.deadSubject, m.data, m.opts);
    expect(seq).toBeGreaterThan(0);
    const gone = await eventually(
      async () => (await jsm.streams.info(nA.deadStream)).state.messages === 0,
      'the dead letters to expire',
      30_000,
    );
    expect(gone).toBe(true);
  });
});
