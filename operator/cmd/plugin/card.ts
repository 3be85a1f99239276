// `kubectl cloudconnect card SITE`: prints the site's credential reference card (card-render.ts) as
// text or Markdown. Reads the OceanSite, its EmrIntegrations and, for the identifiers only, their
// credentials Secrets (a user who may not read Secrets still gets the card, with the reason).
import { CoreV1Api } from '@kubernetes/client-node';
import { EMR_INTEGRATION, type EmrIntegration, GROUP, OCEAN_SITE, type OceanSite, VERSION } from '../../api/v1alpha1/index.ts';
import { safeMessage } from '../../runtime/errors.ts';
import { renderCardMarkdown, renderCardText, type SecretIdentifiers, secretIdentifiers } from './card-render.ts';
import { apiErrorMessage, loadClient } from './client.ts';
import type { CommandIo } from './io.ts';
import { EXIT, GLOBAL_HELP, parseCommandArgs, UsageError } from './usage.ts';

const CARD_HELP = `Print an Ocean site's credential reference card for the clinic's records: site number, EMR
types, tenant and instance ids, API user names, where each Secret and key is kept, the SEK's
fingerprint and version, support sites and who is e-mailed. Never a password, key or token.

Usage:
  kubectl cloudconnect card SITE [-n NAMESPACE] [-o text|markdown]

Options:
  -o, --output FORMAT   text (default) or markdown (print it from any Markdown viewer)

${GLOBAL_HELP}`;

export interface CardArgs {
  help: boolean;
  site: string;
  output: 'text' | 'markdown';
  client: { kubeconfig?: string | undefined; context?: string | undefined; namespace?: string | undefined };
}

/** Pure: the card command line. */
export function parseCardArgs(args: string[]): CardArgs {
  const { values, positionals } = parseCommandArgs(
    'card',
    args,
    { output: { type: 'string', short: 'o' } },
    { min: 1, max: 1, names: 'SITE' },
  );
  const output = values.output ?? 'text';
  if (values.help !== true && output !== 'text' && output !== 'markdown')
    throw new UsageError(`--output must be text or markdown, not "${output}"`, 'card');
  return {
    help: values.help === true,
    site: positionals[0] ?? '',
    output: output as CardArgs['output'],
    client: { kubeconfig: values.kubeconfig, context: values.context, namespace: values.namespace },
  };
}

export async function cardCommand(args: string[], io: CommandIo): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.out(`${CARD_HELP}\n`);
    return EXIT.ok;
  }
  const parsed = parseCardArgs(args);
  const client = loadClient(parsed.client);
  const ns = client.namespace;
  let site: OceanSite;
  try {
    site = (await client.custom.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: ns,
      plural: OCEAN_SITE.plural,
      name: parsed.site,
    })) as OceanSite;
  } catch (error) {
    io.err(`error: OceanSite ${parsed.site} in namespace ${ns}: ${apiErrorMessage(error)}\n`);
    return EXIT.failed;
  }
  const integrations = (await client.list<EmrIntegration>(EMR_INTEGRATION, ns)).filter((i) => i.spec.siteRef.name === parsed.site);
  const secrets = await readIdentifiers(client.kc.makeApiClient(CoreV1Api), ns, integrations);
  const input = { site, integrations, secrets, context: client.kc.getCurrentContext(), now: io.now() };
  io.out(parsed.output === 'markdown' ? renderCardMarkdown(input) : renderCardText(input));
  return EXIT.ok;
}

/** The identifiers of each integration's credentials Secret; an unreadable one says why. */
async function readIdentifiers(
  core: CoreV1Api,
  namespace: string,
  integrations: EmrIntegration[],
): Promise<Map<string, SecretIdentifiers>> {
  const out = new Map<string, SecretIdentifiers>();
  for (const i of integrations) {
    const emr = i.spec.emr as Record<string, { credentialsSecretRef?: { name?: string } } | string | undefined>;
    const name = Object.values(emr).find((v) => typeof v === 'object' && v?.credentialsSecretRef?.name);
    const ref = typeof name === 'object' ? name.credentialsSecretRef?.name : undefined;
    if (!ref || out.has(ref)) continue;
    try {
      const secret = await core.readNamespacedSecret({ name: ref, namespace });
      out.set(ref, secretIdentifiers(ref, i.spec.emr.type, secret.data));
    } catch (error) {
      out.set(ref, { name: ref, keys: [], identifiers: {}, error: `not readable: ${safeMessage(apiErrorMessage(error))}` });
    }
  }
  return out;
}
