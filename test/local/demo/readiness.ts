// Pure: each demo integration's Authenticated and Ready conditions, as one row to print and check.
// A `None` integration has no EMR, so no Authenticated condition: Ready alone counts for it.
export interface ReadinessRow {
  name: string;
  type: string;
  ok: boolean;
  /** `Authenticated=True Ready=True`, or the reasons when not. */
  detail: string;
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
}
interface IntegrationList {
  items: { metadata: { name: string }; spec: { emr: { type: string } }; status?: { conditions?: Condition[] } }[];
}

export function integrationReadiness(list: IntegrationList): ReadinessRow[] {
  return list.items.map((i) => {
    const c = (type: string) => i.status?.conditions?.find((x) => x.type === type);
    const show = (type: string) => {
      const x = c(type);
      return x ? `${type}=${x.status}${x.status === 'True' ? '' : ` (${x.reason ?? '?'})`}` : `${type}=?`;
    };
    const none = i.spec.emr.type === 'None';
    const ok = (none || c('Authenticated')?.status === 'True') && c('Ready')?.status === 'True';
    const detail = none ? `${show('Ready')} (no EMR to authenticate)` : `${show('Authenticated')} ${show('Ready')}`;
    return { name: i.metadata.name, type: i.spec.emr.type, ok, detail };
  });
}
