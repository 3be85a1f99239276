import { describe, expect, it } from 'vitest';
import { integrationId, relayQueueNames, subjectToken } from './contract.ts';
import { mintRelayCreds, relayPermissions } from './nats-auth.ts';
import { createNatsTrust } from './nats-trust.ts';

describe("an integration's NATS names", () => {
  it.each([
    ['keeps a plain name readable', 'clinic', 'maple-accuro', 'clinic_maple-accuro'],
    ["turns a name's dots into underscores", 'clinic', 'maple.accuro', 'clinic_maple_accuro'],
  ])('%s', (_name, namespace, integration, id) => {
    expect(integrationId(namespace, integration)).toBe(id);
    expect(relayQueueNames(namespace, integration)).toMatchObject({
      workStream: `CCRELAY_${id}`,
      deadStream: `CCDEAD_${id}`,
      deliveryBucket: `CCDELIVERY_${id}`,
      inboxPrefix: `_INBOX_${id}`,
      subject: `cloudconnect.relay.${namespace}.${subjectToken(integration)}`,
    });
  });

  it('never gives two integrations the same id (a namespace holds no underscore)', () => {
    expect(integrationId('a-b', 'c')).not.toBe(integrationId('a', 'b-c'));
    expect(integrationId('a', 'b.c')).not.toBe(integrationId('a-b', 'c'));
  });

  it('hashes an id too long for a stream name, still distinct', () => {
    const long = integrationId('clinic', 'x'.repeat(200));
    expect(long).toMatch(/^h[0-9a-f]{40}$/);
    expect(integrationId('clinic', `${'x'.repeat(199)}y`)).not.toBe(long);
  });
});

describe("a relay's NATS permissions", () => {
  const allow = relayPermissions('clinic-a', 'a-accuro');

  it('name only its own subjects and stream APIs, never a wildcard that reaches another integration', () => {
    for (const subject of allow.pub?.allow ?? []) {
      expect(subject.includes('clinic-a_a-accuro') || subject.endsWith('clinic-a.a-accuro'), subject).toBe(true);
      expect(subject.replace(/\.>$/, '')).not.toMatch(/[*>]/);
    }
    expect(allow.sub?.allow).toEqual(['_INBOX_clinic-a_a-accuro.>']);
  });

  it('never allow deleting, purging or creating a stream', () => {
    expect((allow.pub?.allow ?? []).filter((s) => /STREAM\.(DELETE|PURGE|CREATE|UPDATE)|MSG\.DELETE/.test(s))).toEqual([]);
  });

  it('are what a minted user carries, signed by the signing key on behalf of the account', async () => {
    const trust = await createNatsTrust({ storage: 1024 ** 2 });
    const { creds, publicKey } = await mintRelayCreds(trust.signer, 'clinic-a', 'a-accuro');
    const jwt = /-----BEGIN NATS USER JWT-----\n(.+)\n/.exec(creds)?.[1] ?? '';
    const claims = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as {
      sub: string;
      nats: { issuer_account: string; pub: unknown; sub: unknown; bearer_token: boolean };
    };
    expect(claims.sub).toBe(publicKey);
    expect(claims.nats.issuer_account).toBe(trust.account);
    expect(claims.nats.bearer_token).toBe(false);
    expect(claims.nats.pub).toEqual(allow.pub);
    expect(creds).toMatch(/-----BEGIN USER NKEY SEED-----\nSU[A-Z2-7]{56}\n/);
  });
});
