// One connection pool to the API server per TLS identity. client-node 2.0's KubeConfig builds a new
// undici Agent for every request (applySecurityAuthentication → createDispatcher), so every API call
// opened its own TLS connection, parsed the CA bundle into a new TLS context, and left an idle
// connection behind: at a schedule tick a fifth of the operator's CPU went to TLS set-up, and after
// 200 integrations became Ready it held some 200 idle HTTP/2 sessions. This subclass keeps the first
// Agent made for a given cluster, CA and client certificate, and hands it to every later request
// without building another (a throw-away Agent per request still cost its construction and its
// close); when that material changes (a rotated client certificate) the next request gets a new pool
// and the old one is closed once its requests are done.
import { isDeepStrictEqual } from 'node:util';
import { type Cluster, KubeConfig, type RequestContext } from '@kubernetes/client-node';

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;
type AgentOptions = Parameters<KubeConfig['createDispatcherOptions']>[1];
type DispatcherOptions = ReturnType<KubeConfig['createDispatcherOptions']>;

/** What makes two requests' connections interchangeable: the server and the options of its Agent (CA, certificate, key, proxy). */
type Identity = [server: string, options: DispatcherOptions];

export class PooledKubeConfig extends KubeConfig {
  private pool: { identity: Identity; dispatcher: Dispatcher } | undefined;
  /**
   * The identity computed last, set synchronously just before client-node builds an Agent for it. Two
   * requests in flight at once read the same KubeConfig's one current identity, so reading it a
   * microtask later can differ only across a certificate rotation (then the next request settles it).
   */
  private lastIdentity: Identity | undefined;

  /**
   * client-node's options, or none at all when the pool already serves this identity: client-node
   * then builds no Agent, and applySecurityAuthentication hands the request the pool.
   */
  override createDispatcherOptions(cluster: Cluster | null, agentOptions: AgentOptions): DispatcherOptions {
    const options = super.createDispatcherOptions(cluster, agentOptions);
    if (options.type === 'none') {
      // Plain HTTP without TLS options: undici's global pool, already shared.
      this.pool = undefined;
      this.lastIdentity = undefined;
      return options;
    }
    const identity: Identity = [cluster?.server ?? '', options];
    if (this.pool && isDeepStrictEqual(this.pool.identity, identity)) return { type: 'none' };
    this.lastIdentity = identity;
    return options;
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const fresh = context.getDispatcher();
    if (!fresh) {
      if (this.pool) context.setDispatcher(this.pool.dispatcher);
      return;
    }
    if (!this.lastIdentity || fresh === this.pool?.dispatcher) return;
    const previous = this.pool;
    this.pool = { identity: this.lastIdentity, dispatcher: fresh };
    void previous?.dispatcher.close();
  }
}
