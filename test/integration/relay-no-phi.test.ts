// No PHI in cleartext at rest or in logs: what the relay stores in JetStream (read back raw through
// the API, and the server's store files on disk) carries no patient name, birth date or health
// number, while decrypting it with the SEK gives them back (so the check can fail); the relay's
// log (at debug level), its status record and its metrics carry none either, nor the SEK. Along the
// way the SEK rotates: messages stored under version 1 still decrypt after the relay restarts on version 2.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Kvm } from '@nats-io/kv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY_VERSION_HEADER, relayQueueNames, STATUS_BUCKET, statusKey } from '../../operator/internal/relayqueue/contract.ts';
import { queueFigures } from '../../operator/internal/relayqueue/queue.ts';
import { decryptBatch } from '../../operator/internal/sek/crypto.ts';
import { demographicUpdateMessage, eFormNoteMessage, type OceanPatient, referralAttachmentMessage } from '../simulators/ocean.ts';
import { eventually } from './operator-process.ts';
import { type RelayHarness, startRelayHarness } from './relay-harness.ts';
import { vaultRequest } from './vault.ts';

let h: RelayHarness;

beforeAll(async () => {
  const origin = Date.now();
  h = await startRelayHarness({
    namespace: 'relay-no-phi',
    env: { LOG_LEVEL: 'debug', CLOUDCONNECT_RELAY_TIME_SCALE: '60', CLOUDCONNECT_RELAY_TIME_ORIGIN: new Date(origin).toISOString() },
  });
});

afterAll(async () => {
  await h?.dispose();
});

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else out.push(path);
  }
  return out;
}

const phiOf = (p: OceanPatient) => [p.firstName, p.lastName, p.birthDate, p.healthNumber ?? ''].filter((v) => v.length >= 4);

describe('PHI at rest and in logs', () => {
  it('is encrypted in the stream and absent from logs, status and metrics', async () => {
    h.accuro.setFault({ serverError: true }); // keep everything in the stream while we look
    await h.startRelay();
    const patients = [0, 1, 2, 3].map((i) => h.patient(i));
    const phi = patients.flatMap(phiOf);
    expect(phi.length).toBeGreaterThanOrEqual(12);
    let n = 0;
    const post = async (patient: OceanPatient) => {
      for (const message of [
        eFormNoteMessage(`oc-phi-${++n}`, patient),
        referralAttachmentMessage(`oc-phi-${++n}`, patient),
        demographicUpdateMessage(`oc-phi-${++n}`, patient, { phone: '555-0142', lastName: `${patient.lastName}-Newname` }),
      ]) {
        expect((await h.ocean.deliverWebhook(h.webhookUrl, message)).status).toBe(202);
      }
    };
    for (const p of patients.slice(0, 2)) await post(p);

    // The SEK rotates (version 2); the operator restarts the relay, which encrypts new messages with it.
    const rotated = await vaultRequest('POST', `secret/data/${h.sekPath}`, { data: { sek: `${h.sek}-v2` } });
    expect(rotated.json?.data?.version).toBe(2);
    await h.kill('SIGTERM');
    await h.startRelay();
    for (const p of patients.slice(2)) await post(p);

    // Raw stream: every stored message, headers and body, through the JetStream API.
    const info = await h.jsm.streams.info(relayQueueNames(h.namespace, h.integration).workStream);
    const raw: string[] = [];
    const versions = new Set<string>();
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await h.jsm.streams.getMessage(relayQueueNames(h.namespace, h.integration).workStream, { seq }).catch(() => null);
      if (!m) continue;
      versions.add(m.header.get(KEY_VERSION_HEADER));
      raw.push(`${[...m.header].map(([k, v]) => `${k}: ${v.join(',')}`).join('\n')}\n${Buffer.from(m.data).toString('utf8')}`);
    }
    // Dead letters, if any, are stored messages too: look there as well.
    const deadInfo = await h.jsm.streams.info(relayQueueNames(h.namespace, h.integration).deadStream);
    for (let seq = deadInfo.state.first_seq; seq <= deadInfo.state.last_seq && deadInfo.state.messages > 0; seq++) {
      const m = await h.jsm.streams.getMessage(relayQueueNames(h.namespace, h.integration).deadStream, { seq }).catch(() => null);
      if (m) raw.push(Buffer.from(m.data).toString('utf8'));
    }
    expect(raw.length).toBeGreaterThanOrEqual(8);
    expect([...versions].sort()).toEqual(['1', '2']);
    for (const text of raw) for (const value of phi) expect(text.includes(value), `a stored message contains PHI`).toBe(false);
    // The server's own files on disk.
    const store = (await Promise.all((await filesUnder(h.nats.storeDir)).map((f) => readFile(f))))
      .map((b) => b.toString('latin1'))
      .join('\n');
    expect(store.length).toBeGreaterThan(10_000);
    for (const value of phi) expect(store.includes(value), 'the JetStream store files contain PHI').toBe(false);
    // The control: the same bytes decrypt with the SEK into the names.
    const first = await h.jsm.streams.getMessage(relayQueueNames(h.namespace, h.integration).workStream, { seq: info.state.first_seq });
    const plain = JSON.stringify(decryptBatch(JSON.parse(Buffer.from(first?.data ?? []).toString('utf8')), h.sek, h.siteNumber).records);
    expect(plain).toContain(patients[0]?.lastName);

    // The EMR comes back: notes and attachments of both key versions are delivered.
    h.accuro.clearFaults();
    await eventually(async () => h.accuro.documents.length === 8 || undefined, 'the 8 documents in the EMR', 60_000);
    const figures = await eventually(async () => {
      const f = await queueFigures(h.js, h.namespace, h.integration);
      return f.pending === 0 ? f : undefined;
    }, 'an empty queue');
    // Accuro applies demographic updates now (issue 15): the four are written, none dead-lettered.
    expect(figures.deadLettered).toBe(0);
    expect(h.accuro.state.patients.demographicUpdates).toHaveLength(4);

    const kv = await new Kvm(h.js).open(STATUS_BUCKET);
    const status = (await kv.get(statusKey(h.namespace, h.integration)))?.string() ?? '';
    const metrics = await (await fetch(`http://127.0.0.1:${h.metricsPort}/metrics`)).text();
    const logs = h.logs();
    expect(logs).toMatch(/"level":"debug","message":"message stored"/); // the debug log really was on
    for (const [what, text] of [
      ['logs', logs],
      ['status', status],
      ['metrics', metrics],
    ] as const) {
      for (const value of [...phi, h.sek]) expect(text.includes(value), `${what} contain PHI or the SEK`).toBe(false);
    }
  }, 120_000);
});
