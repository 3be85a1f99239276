import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { makeTestTls } from '../../../test/integration/tls.ts';
import { PooledKubeConfig } from './pooled-kubeconfig.ts';

const tls = makeTestTls();
const other = makeTestTls();

function load<T extends KubeConfig>(kc: T, caData = tls.ca): T {
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', caData: Buffer.from(caData).toString('base64') }],
    users: [{ name: 'u', token: 'not-a-real-token' }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return kc;
}

async function dispatcherOf(kc: KubeConfig) {
  const context = new RequestContext('https://127.0.0.1:6443/api/v1/namespaces', HttpMethod.GET);
  await kc.applySecurityAuthentication(context);
  return context.getDispatcher();
}

describe('PooledKubeConfig', () => {
  it('hands every request the same connection pool, where client-node alone builds a new one per request', async () => {
    const plain = load(new KubeConfig());
    expect(await dispatcherOf(plain)).not.toBe(await dispatcherOf(plain));

    const pooled = load(new PooledKubeConfig());
    const first = await dispatcherOf(pooled);
    expect(first).toBeDefined();
    const all = await Promise.all(Array.from({ length: 5 }, () => dispatcherOf(pooled)));
    for (const d of all) expect(d).toBe(first);
  });

  it('still sends the credentials with every request', async () => {
    const pooled = load(new PooledKubeConfig());
    for (let i = 0; i < 2; i++) {
      const context = new RequestContext('https://127.0.0.1:6443/api', HttpMethod.GET);
      await pooled.applySecurityAuthentication(context);
      expect(context.getHeaders()['Authorization']).toBe('Bearer not-a-real-token');
    }
  });

  it('gives a new pool when the TLS material changes (another CA), not the old one', async () => {
    const pooled = load(new PooledKubeConfig());
    const before = await dispatcherOf(pooled);
    load(pooled, other.ca);
    const after = await dispatcherOf(pooled);
    expect(after).not.toBe(before);
    expect(await dispatcherOf(pooled)).toBe(after);
  });
});
