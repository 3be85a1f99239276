// E-mail to the Clinical Administrator (nodemailer over SMTP). Settings come from the operator's
// environment (the chart fills them from a Secret). Messages are redacted like logs.
import nodemailer, { type Transporter } from 'nodemailer';
import type { OceanSiteSpec } from '../../api/v1alpha1/index.ts';
import type { Logger } from '../../runtime/logger.ts';
import { redactor } from '../../runtime/redact.ts';

export interface SmtpConfig {
  host: string;
  port: number;
  secure: boolean;
  from: string;
  user?: string;
  password?: string;
}

/** Whom a site's notice goes to: the Clinical Administrator and the site's additional recipients, or nobody when the site turned that notice off. */
export function siteRecipients(site: Pick<OceanSiteSpec, 'clinicalAdminEmail' | 'notifications'>, notice: 'error' | 'keyAccess'): string[] {
  const enabled = notice === 'error' ? site.notifications?.emailOnError : site.notifications?.emailOnKeyAccess;
  if (enabled === false) return [];
  return [site.clinicalAdminEmail, ...(site.notifications?.additionalRecipients ?? [])];
}

export interface Mail {
  to: string[];
  subject: string;
  text: string;
}

export class Mailer {
  private readonly transport: Transporter | undefined;
  private readonly from: string;
  private readonly logger: Logger;

  constructor(config: SmtpConfig | undefined, logger: Logger) {
    this.logger = logger;
    this.from = config?.from ?? '';
    if (config?.password) redactor.register(config.password);
    this.transport = config
      ? nodemailer.createTransport({
          host: config.host,
          port: config.port,
          secure: config.secure,
          ignoreTLS: !config.secure && config.host === '127.0.0.1',
          ...(config.user ? { auth: { user: config.user, pass: config.password ?? '' } } : {}),
        })
      : undefined;
  }

  get enabled(): boolean {
    return this.transport !== undefined;
  }

  /** Sends, or logs that it cannot; never throws (an unreachable SMTP server must not stall a reconcile). */
  async send(mail: Mail): Promise<boolean> {
    if (!this.transport) {
      this.logger.warn('e-mail not sent: SMTP is not configured', { subject: mail.subject });
      return false;
    }
    try {
      await this.transport.sendMail({
        from: this.from,
        to: mail.to,
        subject: redactor.string(mail.subject),
        text: redactor.string(mail.text),
      });
      return true;
    } catch (error) {
      this.logger.error('e-mail not sent', { subject: mail.subject, error: error instanceof Error ? error.message : String(error) });
      return false;
    }
  }
}
