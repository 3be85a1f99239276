// Forwards an eReferral bundle to the integration's target (spec.eReferral.forward): one POST of the
// bundle as Ocean sent it (application/fhir+json), authenticated with the target's own Secret
// (Bearer `token`, or Basic `username`/`password`), through the egress sandbox (internal/httpx: a
// loopback, private, link-local or cluster address is refused unless EGRESS_ALLOW_CIDRS allows it; no
// redirect followed; bounded answer and deadlines). Every retry of one bundle carries the same
// `Idempotency-Key`. The HTTP status maps to the relay's failure kinds as an EMR's does (5xx and
// refused connections are transient, 401/403 wait for new credentials, other 4xx are permanent).
import { eReferralCredentialKeys } from '../../api/v1alpha1/index.ts';
import type { EgressPolicy } from '../../internal/httpx/egress-config.ts';
import { basicAuth, HttpClient } from '../../internal/httpx/http.ts';
import { EmrError } from '../../internal/httpx/remote-error.ts';

export interface ForwardTarget {
  url: string;
  auth: 'Bearer' | 'Basic';
  /** The mounted credentials Secret's keys (token, or username and password). */
  credentials: Record<string, string>;
  caBundle?: string;
  egress: EgressPolicy;
}

export interface ReferralForwarder {
  forward(bundle: Record<string, unknown>, idempotencyKey: string): Promise<{ id: string }>;
}

/** Pure: the Authorization header of the target, or the names of the keys the Secret lacks. */
export function authorizationOf(target: Pick<ForwardTarget, 'auth' | 'credentials'>): { header: string } | { missing: string[] } {
  const c = target.credentials;
  const missing = eReferralCredentialKeys(target.auth).filter((k) => !c[k]?.trim());
  if (missing.length > 0) return { missing };
  const value = (k: string) => (c[k] ?? '').trim();
  return { header: target.auth === 'Basic' ? basicAuth(value('username'), value('password')) : `Bearer ${value('token')}` };
}

export function referralForwarder(target: ForwardTarget): ReferralForwarder {
  const client = new HttpClient({
    emr: 'eReferral target',
    egress: target.egress,
    ...(target.caBundle ? { caBundle: target.caBundle } : {}),
    secrets: Object.values(target.credentials),
  });
  const url = new URL(target.url);
  return {
    forward: async (bundle, idempotencyKey) => {
      const auth = authorizationOf(target);
      if ('missing' in auth)
        throw new EmrError('InvalidCredentials', `eReferral target: the credentials Secret lacks ${auth.missing.join(', ')}`);
      await client.request(url, {
        method: 'POST',
        headers: {
          authorization: auth.header,
          'content-type': 'application/fhir+json',
          accept: 'application/fhir+json, application/json',
          'idempotency-key': idempotencyKey,
        },
        body: JSON.stringify(bundle),
      });
      // The delivery record keeps the key, not whatever the target answers (it could name the patient).
      return { id: idempotencyKey };
    },
  };
}
