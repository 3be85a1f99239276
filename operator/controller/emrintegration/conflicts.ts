// Pure: one API username may be connected to only one Cloud Connect instance. Two
// integrations of different sites that use the same API user on the same EMR endpoint/tenant
// conflict; both report it and name the other.

export interface EmrIdentity {
  /** namespace/name of the integration. */
  key: string;
  site: string; // namespace/site
  endpoint: string; // EMR base URL + tenant/instance
  apiUser: string;
}

function identityKey(identity: Pick<EmrIdentity, 'endpoint' | 'apiUser'>): string {
  return `${identity.endpoint.toLowerCase()}|${identity.apiUser.toLowerCase()}`;
}

/** For each integration, the other integrations (of other sites) it conflicts with, sorted. */
export function findConflicts(identities: readonly EmrIdentity[]): Map<string, string[]> {
  const byKey = new Map<string, EmrIdentity[]>();
  for (const id of identities) {
    const k = identityKey(id);
    const group = byKey.get(k);
    if (group) group.push(id);
    else byKey.set(k, [id]);
  }
  const out = new Map<string, string[]>();
  for (const group of byKey.values()) {
    for (const id of group) {
      const others = group
        .filter((o) => o.key !== id.key && o.site !== id.site)
        .map((o) => o.key)
        .sort();
      if (others.length > 0) out.set(id.key, others);
    }
  }
  return out;
}
