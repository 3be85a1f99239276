import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { batchAad, DecryptError, decryptBatch, ENVELOPE_ALG, type Envelope, SekEncryptor, sealBatch } from './crypto.ts';

const SEK = 'test-sek-3f9c1a7e5b2d4c6e8a0b1c2d3e4f5a6b';
const SITE = '12345';
const records = [
  { id: '1', firstName: 'Ada', lastName: 'Maple-Sim', healthNumber: '9123456789', note: 'line one\nline two' },
  { id: '2', firstName: 'Bram', lastName: 'Birch-Sim', healthNumber: '9987654321' },
];
const context = { batchId: 'run-1:patient:1', kind: 'patient' as const };

/** Flips one bit of a base64 field. */
function flip(envelope: Envelope, name: 'ct' | 'tag' | 'iv' | 'salt'): Envelope {
  const bytes = Buffer.from(envelope[name], 'base64');
  bytes[0] = (bytes[0] as number) ^ 0x01;
  return { ...envelope, [name]: bytes.toString('base64') };
}

describe('SEK batch encryption', () => {
  const encryptor = new SekEncryptor(SEK, SITE);

  it('round-trips a batch of records as JSON lines, line breaks inside values included', () => {
    const envelope = encryptor.encryptBatch(context, records);
    expect(envelope).toMatchObject({ v: 1, alg: ENVELOPE_ALG });
    expect(Buffer.from(envelope.salt, 'base64')).toHaveLength(16);
    expect(Buffer.from(envelope.iv, 'base64')).toHaveLength(12);
    expect(Buffer.from(envelope.tag, 'base64')).toHaveLength(16);
    expect(decryptBatch(envelope, SEK, SITE, context)).toEqual({ siteNumber: SITE, ...context, records });
  });

  it('round-trips an empty batch', () => {
    expect(decryptBatch(encryptor.encryptBatch(context, []), SEK, SITE).records).toEqual([]);
  });

  it('puts no plaintext in the envelope', () => {
    const text = JSON.stringify(encryptor.encryptBatch(context, records));
    for (const value of ['Ada', 'Maple-Sim', '9123456789', SEK]) expect(text).not.toContain(value);
    expect(JSON.stringify(encryptor)).not.toContain(SEK);
  });

  it('binds the site number, batch id and record kind in the AAD', () => {
    const envelope = encryptor.encryptBatch(context, records);
    expect(Buffer.from(envelope.aad, 'base64').toString('utf8')).toBe('{"v":1,"site":"12345","batch":"run-1:patient:1","kind":"patient"}');
    expect(batchAad(SITE, context).toString('base64')).toBe(envelope.aad);
  });

  const envelope = encryptor.encryptBatch(context, records);
  const otherSite = new SekEncryptor(SEK, '54321').encryptBatch(context, records);
  const cases: { name: string; run: () => unknown }[] = [
    { name: 'fails when a ciphertext bit is flipped', run: () => decryptBatch(flip(envelope, 'ct'), SEK, SITE) },
    { name: 'fails when a tag bit is flipped', run: () => decryptBatch(flip(envelope, 'tag'), SEK, SITE) },
    { name: 'fails when the IV is changed', run: () => decryptBatch(flip(envelope, 'iv'), SEK, SITE) },
    { name: 'fails when the salt is changed', run: () => decryptBatch(flip(envelope, 'salt'), SEK, SITE) },
    {
      name: 'fails when the AAD is rewritten to another batch id',
      run: () =>
        decryptBatch({ ...envelope, aad: batchAad(SITE, { batchId: 'run-1:patient:2', kind: 'patient' }).toString('base64') }, SEK, SITE),
    },
    {
      name: 'fails when the AAD is rewritten to another record kind',
      run: () => decryptBatch({ ...envelope, aad: batchAad(SITE, { ...context, kind: 'appointment' }).toString('base64') }, SEK, SITE),
    },
    {
      name: 'fails when the AAD is rewritten to another site',
      run: () => decryptBatch({ ...envelope, aad: batchAad('54321', context).toString('base64') }, SEK, '54321'),
    },
    {
      name: 'fails when the AAD is re-encoded (same meaning, other bytes)',
      run: () =>
        decryptBatch(
          { ...envelope, aad: Buffer.from('{"site":"12345","v":1,"batch":"run-1:patient:1","kind":"patient"}').toString('base64') },
          SEK,
          SITE,
        ),
    },
    { name: 'fails with a wrong SEK', run: () => decryptBatch(envelope, `${SEK}x`, SITE) },
    {
      name: 'fails with a SEK that differs only in padding (unlike the legacy zero-padded key)',
      run: () => decryptBatch(envelope, `${SEK}0`, SITE),
    },
    { name: 'fails for another site, even with the same SEK', run: () => decryptBatch(otherSite, SEK, SITE) },
    { name: 'fails when the expected batch id differs', run: () => decryptBatch(envelope, SEK, SITE, { batchId: 'run-2:patient:1' }) },
    { name: 'fails when the expected kind differs', run: () => decryptBatch(envelope, SEK, SITE, { kind: 'provider' }) },
    { name: 'fails on an unknown envelope version', run: () => decryptBatch({ ...envelope, v: 2 }, SEK, SITE) },
    { name: 'fails on a truncated tag', run: () => decryptBatch({ ...envelope, tag: Buffer.alloc(12).toString('base64') }, SEK, SITE) },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(c.run).toThrow(DecryptError);
    });
  }

  it('never repeats an IV or a salt across batches', () => {
    const ivs = new Set<string>();
    const salts = new Set<string>();
    const n = 5_000;
    for (let i = 0; i < n; i++) {
      const e = encryptor.encryptBatch({ batchId: `run:appointment:${i}`, kind: 'appointment' }, [{ id: String(i) }]);
      ivs.add(e.iv);
      salts.add(e.salt);
    }
    expect(ivs.size).toBe(n);
    expect(salts.size).toBe(n);
  });

  it('gives different ciphertexts for the same batch encrypted twice', () => {
    const a = encryptor.encryptBatch(context, records);
    const b = encryptor.encryptBatch(context, records);
    expect(a.ct).not.toBe(b.ct);
    expect(decryptBatch(a, SEK, SITE).records).toEqual(decryptBatch(b, SEK, SITE).records);
  });

  it('refuses batch ids and site numbers outside their alphabets', () => {
    expect(() => encryptor.encryptBatch({ batchId: 'a b', kind: 'patient' }, [])).toThrow(/batch id/);
    expect(() => new SekEncryptor(SEK, '12a')).toThrow(/site number/);
    expect(() => new SekEncryptor('', SITE)).toThrow(/empty/);
  });
});

// The format Ocean decrypts, pinned: fixed SEK, salt and IV give these exact bytes. The expected
// values were computed outside this code (Python `cryptography`: HKDF-SHA256 with info
// "cloudconnect/v1/12345", then AES-256-GCM with the AAD), so a change to the key derivation, the
// AAD, the record encoding or the field names fails here, not at Ocean.
describe('SEK envelope test vector', () => {
  const vectorRecords = [
    { id: 'p-1', name: 'Ada Maple-Sim', note: 'line one\nline two' },
    { id: 'p-2', name: 'Bram Birch-Sim' },
  ];
  const salt = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
  const iv = Buffer.from('a0a1a2a3a4a5a6a7a8a9aaab', 'hex');
  const plaintext = '{"id":"p-1","name":"Ada Maple-Sim","note":"line one\\nline two"}\n{"id":"p-2","name":"Bram Birch-Sim"}';
  const VECTOR: Envelope = {
    v: 1,
    alg: 'A256GCM-HKDF-SHA256',
    salt: 'AAECAwQFBgcICQoLDA0ODw==',
    iv: 'oKGio6Slpqeoqaqr',
    aad: 'eyJ2IjoxLCJzaXRlIjoiMTIzNDUiLCJiYXRjaCI6InJ1bi0xOnBhdGllbnQ6MSIsImtpbmQiOiJwYXRpZW50In0=',
    ct: 'AI4kkNBLs3rpjiCgpPvA3Y04KC4K6jcAPY5heCjwQMh9pGSyw1mb2Tv+/rSwJwgTr4jSw91/xjwZNlIMntqtfEAGd2Oz+clRc7aBy3zlqyVXirI3NEZIPhDajVE4ODLTtxkmfQ==',
    tag: 'jNo0PUzT1wlBD9oHvt2lew==',
  };

  it('encrypts a fixed batch with a fixed SEK, salt and IV to the exact envelope', () => {
    const envelope = sealBatch({
      sek: Buffer.from(SEK, 'utf8'),
      siteNumber: SITE,
      context,
      plaintext: Buffer.from(plaintext, 'utf8'),
      salt,
      iv,
    });
    expect(envelope).toStrictEqual(VECTOR);
    expect(JSON.stringify(envelope)).toBe(
      `{"v":1,"alg":"A256GCM-HKDF-SHA256","salt":"${VECTOR.salt}","iv":"${VECTOR.iv}","aad":"${VECTOR.aad}","ct":"${VECTOR.ct}","tag":"${VECTOR.tag}"}`,
    );
  });

  it('encodes the records as JSON lines and the AAD as canonical JSON, byte for byte', () => {
    expect(Buffer.from(VECTOR.aad, 'base64').toString('utf8')).toBe('{"v":1,"site":"12345","batch":"run-1:patient:1","kind":"patient"}');
    // GCM is a stream cipher: the ciphertext is as long as the JSON lines, the tag is apart.
    expect(Buffer.from(VECTOR.ct, 'base64')).toHaveLength(Buffer.byteLength(plaintext));
    expect(Buffer.from(VECTOR.tag, 'base64')).toHaveLength(16);
  });

  it('decrypts the fixed envelope literal to the records', () => {
    expect(decryptBatch(structuredClone(VECTOR), SEK, SITE, context)).toEqual({ siteNumber: SITE, ...context, records: vectorRecords });
  });

  it('encrypts through SekEncryptor exactly as the vector does, given the same salt and IV', () => {
    const envelope = new SekEncryptor(SEK, SITE).encryptBatch(context, vectorRecords);
    const again = sealBatch({
      sek: Buffer.from(SEK, 'utf8'),
      siteNumber: SITE,
      context,
      plaintext: Buffer.from(plaintext, 'utf8'),
      salt: Buffer.from(envelope.salt, 'base64'),
      iv: Buffer.from(envelope.iv, 'base64'),
    });
    expect(again).toStrictEqual(envelope);
  });

  it('refuses a salt or IV of the wrong length', () => {
    const base = { sek: Buffer.from(SEK, 'utf8'), siteNumber: SITE, context, plaintext: Buffer.from(plaintext) };
    expect(() => sealBatch({ ...base, salt: salt.subarray(1), iv })).toThrow(/salt must be 16 bytes/);
    expect(() => sealBatch({ ...base, salt, iv: Buffer.alloc(16) })).toThrow(/IV must be 12 bytes/);
  });

  it('shows nothing of the SEK when an encryptor is inspected, spread or serialised', () => {
    const encryptor = new SekEncryptor(SEK, SITE);
    expect(inspect(encryptor)).toBe("SekEncryptor { siteNumber: '12345' }");
    expect(JSON.stringify({ ...encryptor })).not.toContain('test-sek');
    expect(Object.keys(encryptor)).toEqual(['siteNumber']);
  });
});
