// One connection pool to the API server per TLS identity. client-node 2.0's KubeConfig builds a new
// undici Agent for every request (applySecurityAuthentication → createDispatcher), so every API call
// opened its own TLS connection, parsed the CA bundle into a new TLS context, and left an idle
// connection behind: at a schedule tick a fifth of the operator's CPU went to TLS set-up, and after
// 200 integrations became Ready it held some 200 idle HTTP/2 sessions. This subclass keeps the first
// Agent made for a given cluster, CA and client certificate, and hands it to every later request;
// when that material changes (a rotated client certificate) the next request gets a new pool and
// the old one is closed once its requests are done.
import { createHash } from 'node:crypto';
import { type Cluster, KubeConfig, type RequestContext } from '@kubernetes/client-node';

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;
type AgentOptions = Parameters<KubeConfig['createDispatcherOptions']>[1];

export class PooledKubeConfig extends KubeConfig {
  private pool: { key: string; dispatcher: Dispatcher } | undefined;
  /**
   * The TLS material of the dispatcher options computed last, set synchronously just before the Agent
   * is built. Two requests in flight at once read the same KubeConfig's one current identity, so
   * reading it a microtask later can differ only across a certificate rotation (then the next request
   * settles it).
   */
  private lastKey = '';

  override createDispatcherOptions(cluster: Cluster | null, agentOptions: AgentOptions): ReturnType<KubeConfig['createDispatcherOptions']> {
    const options = super.createDispatcherOptions(cluster, agentOptions);
    this.lastKey = createHash('sha256')
      .update(JSON.stringify([cluster?.server ?? '', options]))
      .digest('hex');
    return options;
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const fresh = context.getDispatcher();
    if (!fresh) return; // plain HTTP without TLS options: undici's global pool, already shared
    const key = this.lastKey;
    if (this.pool?.key === key) {
      context.setDispatcher(this.pool.dispatcher);
      void fresh.close(); // never connected
      return;
    }
    const previous = this.pool;
    this.pool = { key, dispatcher: fresh };
    void previous?.dispatcher.close();
  }
}
