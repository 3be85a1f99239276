// Referral attachments are PDFs of a few MB: one of 3 MB goes through (the queue's max_payload is
// raised to 8 MiB, as the chart does), and one whose encrypted form exceeds it is refused with 413
// and a message that says which limit to raise, instead of a 503 that Ocean would retry for 96 hours.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { minimalPdf, referralAttachmentMessage } from '../simulators/ocean.ts';
import { eventually } from './operator-process.ts';
import { type RelayHarness, startRelayHarness } from './relay-harness.ts';

let h: RelayHarness;

beforeAll(async () => {
  h = await startRelayHarness({ namespace: 'relay-large' });
  await h.startRelay();
});

afterAll(async () => {
  await h?.dispose();
});

function withPdfOf(bytes: number, id: string) {
  const message = referralAttachmentMessage(id, h.patient(5), 'Imaging report');
  const pdf = Buffer.concat([minimalPdf(['Imaging report']), randomBytes(bytes)]);
  return { message: { ...message, attachment: { ...(message['attachment'] as object), data: pdf.toString('base64') } }, pdf };
}

describe('large referral attachments', () => {
  it('a 3 MB PDF is stored and delivered byte for byte', async () => {
    const { message, pdf } = withPdfOf(3 * 1024 * 1024, 'oc-large-1');
    expect((await h.ocean.deliverWebhook(h.webhookUrl, message)).status).toBe(202);
    await eventually(async () => h.accuro.documents.length === 1 || undefined, 'the large document in the EMR', 30_000);
    expect(h.accuro.documents[0]?.content.equals(pdf)).toBe(true);
  });

  it('a PDF whose encrypted form exceeds the queue limit is refused with 413 naming the limit', async () => {
    const { message } = withPdfOf(6 * 1024 * 1024, 'oc-large-2');
    const response = await fetch(h.webhookUrl, {
      method: 'POST',
      headers: h.authHeaders,
      body: JSON.stringify(message),
    });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: string }).error).toMatch(/exceeds the queue's max_payload \(8388608 bytes\)/);
    expect(h.logs()).toMatch(
      /"level":"error","maxPayload":8388608,"message":"a message is larger than the NATS server accepts; raise its max_payload"/,
    );
  });
});
