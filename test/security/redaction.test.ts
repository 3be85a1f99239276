// Redaction against the real operator process, apiserver, Vault and SMTP server. A clinic's Accuro
// credentials are short (a 4-character API password and client secret) and its token endpoint (the
// Accuro simulator with the echoCredentials fault) refuses them with an error_description quoting
// the whole request: the form body (password form-encoded), the Basic header (client secret in
// base64) and both values raw. The operator quotes that description in the Authenticated condition,
// the AuthenticationFailed Event and the e-mail to the Clinical Administrator; none of them, nor its
// logs or metrics, may carry either secret (or the SEK) as is, URL-encoded, JSON-escaped or base64.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AccuroSite, accuroEmr, apply, setUpAccuroSite } from '../integration/fixtures.ts';
import { kubectlOk } from '../integration/kubectl.ts';
import { eventually, everythingWritten, type OperatorProcess, startOperator } from '../integration/operator-process.ts';
import { type ReceivedMail, startSmtpSink } from '../integration/smtp.ts';
import { ACCURO_DEV_CREDENTIALS } from '../simulators/accuro.ts';
import { leakedForms } from './leak-forms.ts';

const id = Date.now().toString(36);
const ns = `sec-redact-${id}`;
/** Unique per run: the operator also reconciles (and e-mails about) what other test files left in the cluster. */
const SITE = `maple-${id}`;
const ADMIN = `admin@${SITE}.example.org`;
const INTEGRATION = `${SITE}-accuro`;
/** Short secrets whose URL-encoded, JSON-escaped and base64 forms all differ from the value. */
const CREDENTIALS = { ...ACCURO_DEV_CREDENTIALS, apiPassword: 'p"4%', clientSecret: 'c/9+' };

let site: AccuroSite;
let operator: OperatorProcess;
let smtp: Awaited<ReturnType<typeof startSmtpSink>>;

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

async function authenticated(): Promise<Condition | undefined> {
  const obj = JSON.parse(await kubectlOk(['get', 'emrintegration', INTEGRATION, '-n', ns, '-o', 'json'])) as {
    status?: { conditions?: Condition[] };
  };
  return obj.status?.conditions?.find((c) => c.type === 'Authenticated');
}

/** A mail as sent and as read: quoted-printable and base64 bodies decoded, so a secret split by encoding is still found. */
function mailText(mail: ReceivedMail): string {
  const qp = mail.body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
  const base64 = (mail.body.match(/^[A-Za-z0-9+/=]{40,}\r?$/gm) ?? []).map((l) => l.trim()).join('');
  return [mail.subject, mail.body, Buffer.from(qp, 'latin1').toString('utf8'), Buffer.from(base64, 'base64').toString('utf8')].join('\n');
}

beforeAll(async () => {
  smtp = await startSmtpSink();
  site = await setUpAccuroSite({
    namespace: ns,
    site: SITE,
    siteNumber: '5150',
    credentials: CREDENTIALS,
    faults: { echoCredentials: true, rejectCredentials: true },
  });
  operator = await startOperator({ SMTP_HOST: '127.0.0.1', SMTP_PORT: String(smtp.port), SMTP_FROM: 'cloudconnect@ops.example.org' });
  await kubectlOk(['wait', '--for=condition=Ready', '--timeout=60s', '-n', ns, `oceansite/${SITE}`]);
  await apply({
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'EmrIntegration',
    metadata: { name: INTEGRATION, namespace: ns },
    spec: { siteRef: { name: SITE }, emr: accuroEmr(site) },
  });
});

afterAll(async () => {
  await operator?.stop();
  await site?.accuro.stop();
  await smtp?.stop();
});

describe('a token endpoint that echoes a short password and client secret', () => {
  it('is quoted in the Authenticated condition with both secrets redacted', async () => {
    const c = await eventually(async () => {
      const found = await authenticated();
      return found?.status === 'False' && found.reason === 'InvalidCredentials' ? found : undefined;
    }, 'Authenticated=False InvalidCredentials');
    expect(c.message).toContain('the endpoint says: client authentication failed');
    expect(c.message).toContain('[REDACTED]');
    expect(site.accuro.requests.some((r) => r.path === '/v1/token' && r.status === 401)).toBe(true);
  });

  it('leaves neither secret nor the SEK, in any form, in the operator’s output, Events, status, metrics or e-mail', async () => {
    const ours = () => smtp.mails.filter((m) => m.to.includes(ADMIN));
    const mail = await eventually(async () => ours().find((m) => mailText(m).includes('InvalidCredentials')), 'the e-mail');
    const everything = [await everythingWritten(operator, ns, kubectlOk), ...ours().map(mailText)].join('\n');
    expect(everything).toContain('AuthenticationFailed');
    expect(mailText(mail)).toContain('the endpoint says');
    for (const [name, secret] of [
      ['the API password', CREDENTIALS.apiPassword],
      ['the client secret', CREDENTIALS.clientSecret],
      ['the SEK', site.sek],
    ] as const) {
      expect(leakedForms(everything, secret), `${name} leaked`).toEqual([]);
    }
  });
});
