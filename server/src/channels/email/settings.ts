import { type Static, Type } from '@sinclair/typebox';
import type { SettingsIssue } from '../connector';

/** How a connection is protected: implicit TLS (993/465), STARTTLS (143/587), or none (tests, LAN). */
export const SECURITY_MODES = ['tls', 'starttls', 'none'] as const;
export type SecurityMode = (typeof SECURITY_MODES)[number];

const host = (what: string) =>
  Type.String({
    minLength: 1,
    maxLength: 253,
    pattern: '^[A-Za-z0-9.:\\[\\]-]+$',
    description: `${what} server host name`,
  });
const port = (what: string) =>
  Type.Integer({ minimum: 1, maximum: 65535, description: `${what} server port` });
const security = (what: string) =>
  Type.Union(
    SECURITY_MODES.map((mode) => Type.Literal(mode)),
    { description: `${what}: tls (implicit TLS), starttls, or none` },
  );
const secret = (what: string) =>
  Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 1024,
      writeOnly: true,
      description: `${what} password or app password. Stored encrypted, never returned; leave it out to keep the stored one`,
    }),
  );

/**
 * Settings of an e-mail channel (issue 15). The passwords are write-only: they are moved to the
 * channel's encrypted secrets (services/secret-box.ts, as Telegram's token) and never shown again.
 */
export const EmailChannelSettingsSchema = Type.Object(
  {
    imapHost: host('IMAP'),
    imapPort: port('IMAP'),
    imapSecurity: security('IMAP'),
    imapUser: Type.String({
      minLength: 1,
      maxLength: 320,
      description: 'IMAP user name (often the address)',
    }),
    imapPassword: secret('IMAP'),
    imapFolder: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 255,
        default: 'INBOX',
        description: 'The folder watched for new mail',
      }),
    ),
    smtpHost: host('SMTP'),
    smtpPort: port('SMTP'),
    smtpSecurity: security('SMTP'),
    smtpUser: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 320,
        description: 'SMTP user name; leave out for no authentication',
      }),
    ),
    smtpPassword: secret('SMTP'),
    fromAddress: Type.String({
      minLength: 3,
      maxLength: 320,
      pattern: '^[^\\s@<>]+@[^\\s@<>]+$',
      description: 'The address replies are sent from',
    }),
    fromName: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'The name replies are sent as' }),
    ),
  },
  { additionalProperties: false },
);
export type EmailChannelSettings = Static<typeof EmailChannelSettingsSchema>;

/** What is stored in channels.settings and shown: everything but the passwords. */
export type EmailPublicSettings = Omit<EmailChannelSettings, 'imapPassword' | 'smtpPassword'> & {
  imapFolder: string;
  [key: string]: unknown;
};

export function checkEmailSettings(settings: EmailChannelSettings): SettingsIssue[] {
  const issues: SettingsIssue[] = [];
  if (settings.smtpPassword !== undefined && settings.smtpUser === undefined) {
    issues.push({ field: 'smtpUser', message: 'is required when an SMTP password is given' });
  }
  return issues;
}

export function publicSettingsOf(settings: EmailChannelSettings): EmailPublicSettings {
  const { imapPassword: _imap, smtpPassword: _smtp, ...rest } = settings;
  return { ...rest, imapFolder: settings.imapFolder ?? 'INBOX' };
}
