// The user's cluster access, as kubectl would pick it: --kubeconfig, else $KUBECONFIG, else
// ~/.kube/config (or in-cluster); --context, else the current context; --namespace, else the
// context's namespace, else "default".
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { EMR_INTEGRATION, type EmrIntegration, GROUP, type KindDefinition, VERSION } from '../../api/v1alpha1/index.ts';
import { MERGE_PATCH } from '../../internal/kube/kube.ts';
import { ignoreStatus } from '../../runtime/errors.ts';

export interface ClientOptions {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  namespace?: string | undefined;
}

export interface PluginClient {
  kc: KubeConfig;
  namespace: string;
  custom: CustomObjectsApi;
  list<T>(kind: KindDefinition, namespace: string): Promise<T[]>;
  /** Every object of the kind in every namespace the user may list (kubectl's --all-namespaces). */
  listAllNamespaces<T>(kind: KindDefinition): Promise<T[]>;
}

export function loadClient(options: ClientOptions): PluginClient {
  const kc = new KubeConfig();
  if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
  else kc.loadFromDefault();
  if (options.context) {
    if (!kc.getContextObject(options.context)) throw new Error(`context "${options.context}" is not in the kubeconfig`);
    kc.setCurrentContext(options.context);
  }
  const namespace = options.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  const custom = kc.makeApiClient(CustomObjectsApi);
  return {
    kc,
    namespace,
    custom,
    async list<T>(kind: KindDefinition, ns: string): Promise<T[]> {
      const out = (await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: kind.plural })) as {
        items: T[];
      };
      return out.items;
    },
    async listAllNamespaces<T>(kind: KindDefinition): Promise<T[]> {
      const out = (await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: kind.plural })) as { items: T[] };
      return out.items;
    },
  };
}

/** A short, kubectl-like message for an API error (its Status message when there is one). */
export function apiErrorMessage(error: unknown): string {
  const status = apiStatus(error);
  if (status?.message) return status.message;
  if (error instanceof Error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code === 'ECONNREFUSED' || cause?.code === 'ENOTFOUND') return `cannot reach the API server: ${cause.message ?? cause.code}`;
    return error.message.split('\n')[0] ?? error.message;
  }
  return String(error);
}

export interface ApiStatus {
  code?: number;
  reason?: string;
  message?: string;
  details?: { causes?: { field?: string; message?: string; reason?: string }[] };
}

/** The metav1.Status an ApiException carries in its body, if any. */
export function apiStatus(error: unknown): ApiStatus | undefined {
  if (!error || typeof error !== 'object' || !('body' in error)) return undefined;
  const body = (error as { body: unknown }).body;
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as unknown;
      return parsed && typeof parsed === 'object' && (parsed as { kind?: string }).kind === 'Status' ? (parsed as ApiStatus) : undefined;
    } catch {
      return undefined;
    }
  }
  return body && typeof body === 'object' && (body as { kind?: string }).kind === 'Status' ? (body as ApiStatus) : undefined;
}

/** One of our objects, or undefined when it does not exist. */
export async function getNamespaced<T>(client: PluginClient, plural: string, namespace: string, name: string): Promise<T | undefined> {
  return (await client.custom
    .getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural, name })
    .catch(ignoreStatus(404))) as T | undefined;
}

/** The EmrIntegration a command acts on, in the client's namespace; an error (exit 1) naming it when it does not exist. */
export async function getIntegration(client: PluginClient, name: string): Promise<EmrIntegration> {
  const integration = await getNamespaced<EmrIntegration>(client, EMR_INTEGRATION.plural, client.namespace, name);
  if (!integration) throw new Error(`EmrIntegration ${name} not found in namespace ${client.namespace}`);
  return integration;
}

/**
 * Asks the operator for something by setting `annotation` on one of our objects (in the client's
 * namespace) to a new token, `kubectl-cloudconnect/<now>`; returns the token the operator echoes once handled.
 */
export async function requestByAnnotation(
  client: PluginClient,
  kind: KindDefinition,
  name: string,
  annotation: string,
  now: Date,
): Promise<string> {
  const token = `kubectl-cloudconnect/${now.toISOString()}`;
  await client.custom.patchNamespacedCustomObject(
    {
      group: GROUP,
      version: VERSION,
      namespace: client.namespace,
      plural: kind.plural,
      name,
      body: { metadata: { annotations: { [annotation]: token } } },
    },
    MERGE_PATCH,
  );
  return token;
}
