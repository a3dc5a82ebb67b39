import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { ConnectorError } from '../connector';
import type { EmailPublicSettings } from './settings';

/** The channel's settings and secrets, as the IMAP and SMTP clients need them. */
export interface MailboxAccess {
  settings: EmailPublicSettings;
  imapPassword: string;
  smtpPassword: string | undefined;
}

/** An `imapflow` client for the channel's mailbox (not connected). */
export function imapClient(access: MailboxAccess, timeoutMs: number): ImapFlow {
  const { settings } = access;
  return new ImapFlow({
    host: settings.imapHost,
    port: settings.imapPort,
    secure: settings.imapSecurity === 'tls',
    doSTARTTLS:
      settings.imapSecurity === 'starttls' ? true : settings.imapSecurity === 'none' ? false : undefined,
    auth: { user: settings.imapUser, pass: access.imapPassword },
    logger: false,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: Math.max(timeoutMs, 60_000),
    // Dovecot and most servers IDLE; imapflow re-issues IDLE before servers' 30-minute limit.
    maxIdleTime: 5 * 60_000,
  });
}

/** A `nodemailer` SMTP transport for the channel's replies. */
export function smtpTransport(access: MailboxAccess, timeoutMs: number) {
  const { settings } = access;
  return nodemailer.createTransport({
    host: settings.smtpHost,
    port: settings.smtpPort,
    secure: settings.smtpSecurity === 'tls',
    requireTLS: settings.smtpSecurity === 'starttls',
    ignoreTLS: settings.smtpSecurity === 'none',
    ...(settings.smtpUser && access.smtpPassword
      ? { auth: { user: settings.smtpUser, pass: access.smtpPassword } }
      : {}),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
}

interface WireError {
  code?: string;
  responseCode?: number;
  authenticationFailed?: boolean;
  message?: string;
}

const TLS_CODES = /^(ERR_SSL|ERR_TLS|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_VERIFY|EPROTO|ETLS)/;

/** What part of the settings a connection failure points at, for the administrator. */
export type FailedPart = 'host' | 'credentials' | 'tls' | 'folder' | 'other';

export function failedPartOf(error: unknown): FailedPart {
  const wire = (error ?? {}) as WireError;
  const code = String(wire.code ?? '');
  const message = String(wire.message ?? '');
  if (wire.authenticationFailed || code === 'EAUTH' || wire.responseCode === 535) return 'credentials';
  if (TLS_CODES.test(code) || /ssl|tls|certificate|wrong version number/i.test(message)) return 'tls';
  if (
    [
      'ENOTFOUND',
      'EAI_AGAIN',
      'ECONNREFUSED',
      'EHOSTUNREACH',
      'ENETUNREACH',
      'ETIMEDOUT',
      'ECONNECTION',
      'EDNS',
    ].includes(code)
  )
    return 'host';
  if (code === 'NoConnection' || /connect|timeout|closed/i.test(message)) return 'host';
  return 'other';
}

/**
 * An SMTP failure in the outbox's terms: 4xx and network errors are temporary (retried with
 * backoff); 535 means the credentials no longer work; 550/551/553 refuse the recipient; other
 * 5xx refuse the message.
 */
export function connectorErrorOfSmtp(error: unknown): ConnectorError {
  if (error instanceof ConnectorError) return error;
  const wire = (error ?? {}) as WireError;
  const status = wire.responseCode;
  const message = `SMTP: ${wire.message ?? String(error)}`;
  if (status === 535 || wire.code === 'EAUTH')
    return new ConnectorError('auth_revoked', message, { cause: error });
  if (status !== undefined && status >= 400 && status < 500) {
    return new ConnectorError(
      status === 421 || status === 450 || status === 451 ? 'temporary' : 'rate_limited',
      message,
      {
        cause: error,
      },
    );
  }
  if (status === 550 || status === 551 || status === 553) {
    return new ConnectorError('recipient_unreachable', message, { cause: error });
  }
  if (status !== undefined && status >= 500)
    return new ConnectorError('invalid_payload', message, { cause: error });
  return new ConnectorError('temporary', message, { cause: error });
}
