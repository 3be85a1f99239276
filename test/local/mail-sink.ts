// A local SMTP server for `make up` (smtp-server): every e-mail the operator sends to a Clinical
// Administrator lands as a file in .local/mail/, so notifications can be seen without a mail provider.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';

const dir = process.argv[2] ?? '.local/mail';
const port = Number(process.argv[3] ?? '12525');
mkdirSync(dir, { recursive: true });
let n = 0;
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  onData(stream, session, callback) {
    const chunks: Buffer[] = [];
    stream.on('data', (d: Buffer) => chunks.push(d));
    stream.on('end', () => {
      const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${++n}.eml`);
      writeFileSync(file, Buffer.concat(chunks));
      process.stdout.write(`mail to ${session.envelope.rcptTo.map((r) => r.address).join(', ')} saved as ${file}\n`);
      callback();
    });
  },
});
server.listen(port, '127.0.0.1', () => process.stdout.write(`SMTP sink on 127.0.0.1:${port}, mails in ${dir}\n`));
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => server.close(() => process.exit(0)));
