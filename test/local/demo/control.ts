// The demo launcher's control API, HTTP over a unix socket in .local/demo/ (mode 0700 directory:
// only this user can ask the simulated Ocean to send): `POST /send` with the relay targets, the
// webhook keys included, answered with one result per message. The keys travel only through it.
import { request } from 'node:http';
import type { EmrType } from '../../../operator/api/v1alpha1/emr-integration.ts';

export interface SendTarget {
  /** `<namespace>/<name>` of the EmrIntegration. */
  integration: string;
  type: EmrType;
  /** The relay's webhook URL (its Service's ClusterIP). */
  url: string;
  /** spec.webhook.keyHeader. */
  headerName: string;
  /** The webhook API key from Vault. */
  key: string;
}

export interface SendRequest {
  targets: SendTarget[];
  count: number;
  /** Deliveries per message, the first included (Ocean retries a failed webhook). */
  attempts?: number;
  retryDelayMs?: number;
}

export interface SendResult {
  integration: string;
  messageId: string;
  messageType: string;
  delivered: boolean;
  /** The relay's HTTP status, when it answered. */
  status?: number;
  error?: string;
}

/** POSTs JSON to the launcher's control socket and returns its JSON answer. */
export function controlRequest<T>(socketPath: string, path: string, body: unknown, timeoutMs = 600_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath, path, method: 'POST', headers: { 'content-type': 'application/json' }, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) reject(new Error(`the demo simulators answered ${res.statusCode}: ${text.slice(0, 500)}`));
          else resolve(JSON.parse(text) as T);
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('the demo simulators did not answer in time')));
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}
