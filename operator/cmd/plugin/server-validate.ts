// Server-side dry run of one manifest (dryRun=All): what `kubectl apply --dry-run=server
// --validate=strict` does. Creates when the object is new, replaces (at its resourceVersion) when it
// exists; nothing is persisted. cloudconnect.dev kinds go through the custom objects API with
// fieldValidation=Strict, so unknown fields are errors as with kubectl's --validate=strict.
import { CustomObjectsApi, type KubeConfig, type KubernetesObject, KubernetesObjectApi, VersionApi } from '@kubernetes/client-node';
import { API_VERSION, GROUP, KINDS, VERSION } from '../../api/v1alpha1/index.ts';
import { statusCodeOf } from '../../runtime/errors.ts';
import { type ApiStatus, apiStatus } from './client.ts';

const FIELD_MANAGER = 'kubectl-cloudconnect';

export type DryRunOutcome = { ok: true } | { ok: false; status?: ApiStatus; message: string; missingNamespace?: string };

export async function probeServer(kc: KubeConfig, timeoutMs = 5000): Promise<string | undefined> {
  const version = kc.makeApiClient(VersionApi);
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000}s`)), timeoutMs).unref(),
  );
  try {
    await Promise.race([version.getCode(), timeout]);
    return undefined;
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message;
    return cause ?? (error instanceof Error ? error.message.split('\n')[0] : String(error));
  }
}

export class ServerValidator {
  private readonly custom: CustomObjectsApi;
  private readonly objects: ObjectApi;
  private readonly defaultNamespace: string;

  constructor(kc: KubeConfig, defaultNamespace: string) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.objects = kc.makeApiClient(ObjectApi).useNamespace(defaultNamespace);
    this.defaultNamespace = defaultNamespace;
  }

  async dryRun(doc: KubernetesObject): Promise<DryRunOutcome> {
    try {
      await this.apply(doc);
      return { ok: true };
    } catch (error) {
      const status = apiStatus(error);
      const details = (status?.details ?? {}) as { kind?: string; name?: string };
      if (statusCodeOf(error) === 404 && details.kind === 'namespaces') {
        return {
          ok: false,
          ...(status ? { status } : {}),
          message: status?.message ?? 'namespace not found',
          missingNamespace: details.name ?? '',
        };
      }
      if (status) return { ok: false, status, message: status.message ?? `HTTP ${statusCodeOf(error)}` };
      throw error; // not an answer of the API server: let the caller report it
    }
  }

  private async apply(doc: KubernetesObject): Promise<void> {
    const kind = doc.apiVersion === API_VERSION ? KINDS.find((k) => k.kind === doc.kind) : undefined;
    const namespace = doc.metadata?.namespace ?? this.defaultNamespace;
    if (kind) {
      const body = { ...doc, metadata: { ...doc.metadata, namespace } };
      const base = {
        group: GROUP,
        version: VERSION,
        namespace,
        plural: kind.plural,
        dryRun: 'All',
        fieldManager: FIELD_MANAGER,
        fieldValidation: 'Strict',
      };
      try {
        await this.custom.createNamespacedCustomObject({ ...base, body });
      } catch (error) {
        if (statusCodeOf(error) !== 409 || !doc.metadata?.name) throw error;
        const existing = (await this.custom.getNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace,
          plural: kind.plural,
          name: doc.metadata.name,
        })) as KubernetesObject;
        const replaced = { ...body, metadata: { ...body.metadata, resourceVersion: existing.metadata?.resourceVersion } };
        await this.custom.replaceNamespacedCustomObject({ ...base, name: doc.metadata.name, body: replaced });
      }
      return;
    }
    // Other kinds: found through discovery, which also decides whether the namespace applies.
    const spec = { ...doc, metadata: { ...doc.metadata } };
    try {
      await this.objects.create(spec, undefined, 'All', FIELD_MANAGER);
    } catch (error) {
      if (statusCodeOf(error) !== 409) throw error;
      const existing = await this.objects.read(spec as KubernetesObject & { metadata: { name: string } });
      await this.objects.replace(
        { ...spec, metadata: { ...spec.metadata, resourceVersion: existing.metadata?.resourceVersion } },
        undefined,
        'All',
        FIELD_MANAGER,
      );
    }
  }
}

/** KubernetesObjectApi whose default namespace is the plugin's (-n), not only the context's. */
class ObjectApi extends KubernetesObjectApi {
  useNamespace(namespace: string): this {
    this.defaultNamespace = namespace;
    return this;
  }
}

/** The API server's complaint as `field: message` lines (its causes), or its message. */
export function statusErrors(status: ApiStatus | undefined, message: string): string[] {
  const causes = (status?.details?.causes ?? []).flatMap((c) => (c.message ? [{ ...c, message: c.message }] : []));
  if (causes.length === 0) return [message];
  return causes.map((c) => {
    const text = c.message;
    // The API server's own cause without a field: "some validation rules were not checked ...".
    if (!c.field || c.field === '<nil>') return text.replace(/^Invalid value: null: /, '');
    return text.startsWith(c.field) || text.startsWith('unknown field') ? text : `${c.field}: ${text}`;
  });
}
