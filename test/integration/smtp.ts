// A real SMTP server (smtp-server) on loopback for tests: every mail the operator sends is kept.
import { SMTPServer } from 'smtp-server';
import { freePort } from './operator-process.ts';

export interface ReceivedMail {
  to: string[];
  subject: string;
  body: string;
}

export async function startSmtpSink(): Promise<{ port: number; mails: ReceivedMail[]; stop(): Promise<void> }> {
  const port = await freePort();
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, callback) {
      let body = '';
      stream.on('data', (d: Buffer) => (body += d.toString()));
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), subject: /^Subject: (.*)$/m.exec(body)?.[1] ?? '', body });
        callback();
      });
    },
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return { port, mails, stop: () => new Promise<void>((r) => server.close(() => r())) };
}
