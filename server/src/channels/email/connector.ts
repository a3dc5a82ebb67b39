import { invalidField } from '../../errors';
import { type ChannelSecrets, defineConnector, type PreparedChannel } from '../connector';
import { emailUnreceivedNote, fetchEmailFile, inboundItemsOf } from './inbound';
import { sendEmail } from './outbound';
import {
  checkEmailSettings,
  type EmailChannelSettings,
  EmailChannelSettingsSchema,
  type EmailPublicSettings,
  publicSettingsOf,
} from './settings';
import { type FailedPart, failedPartOf, imapClient, type MailboxAccess, smtpTransport } from './transport';

const WHY: Record<FailedPart, string> = {
  host: 'cannot be reached (check the host name and port)',
  credentials: 'refuses this user name and password',
  tls: 'does not speak the chosen security mode (check tls / starttls / none and the port)',
  folder: 'has no such folder',
  other: 'refused the connection',
};

/** Which settings field a failed check names, so the form marks it. */
function fieldOf(side: 'imap' | 'smtp', part: FailedPart): string {
  if (part === 'credentials') return side === 'imap' ? 'imapPassword' : 'smtpPassword';
  if (part === 'tls') return `${side}Security`;
  if (part === 'folder') return 'imapFolder';
  return `${side}Host`;
}

function refused(side: 'imap' | 'smtp', error: unknown): never {
  const part = failedPartOf(error);
  const detail = error instanceof Error && error.message ? ` (${error.message})` : '';
  throw invalidField(
    `body.settings.${fieldOf(side, part)}`,
    `The ${side.toUpperCase()} server ${WHY[part]}${detail}`,
  );
}

/** Logs in to IMAP and opens the folder, then checks SMTP (EHLO, STARTTLS, AUTH): both must work. */
async function checkMailbox(access: MailboxAccess, timeoutMs: number): Promise<void> {
  const imap = imapClient(access, timeoutMs);
  imap.on('error', () => {});
  try {
    await imap.connect();
  } catch (error) {
    refused('imap', error);
  }
  try {
    await imap.mailboxOpen(access.settings.imapFolder, { readOnly: true });
  } catch {
    throw invalidField(
      'body.settings.imapFolder',
      `The IMAP server ${WHY.folder} "${access.settings.imapFolder}"`,
    );
  } finally {
    await imap.logout().catch(() => imap.close());
  }
  const smtp = smtpTransport(access, timeoutMs);
  try {
    await smtp.verify();
  } catch (error) {
    refused('smtp', error);
  } finally {
    smtp.close();
  }
}

/**
 * A mailbox as a channel (issue 15; LN-6).
 *   connect   IMAP and SMTP settings; saving logs in to both (a wrong host, password or TLS mode is
 *             a 400 naming the field). The passwords go to the encrypted secrets, never shown again;
 *             `imap:<user>@<host>:<port>/<folder>` is the external key, so a folder is watched once.
 *   inbound   the EmailIntake worker (edge.ts → workers/email-intake.ts) fetches new mail by UID
 *             and hands each parsed mail (mime.ts) to the generic inbound path: `parseInbound`,
 *             `fetchFile` (the attachments are in the mail) and `unreceivedNote` (inbound.ts).
 *   outbound  reply mails over SMTP through the outbox (outbound.ts).
 */
export const emailConnector = defineConnector<EmailChannelSettings>({
  kind: 'email',
  title: 'E-mail',
  settingsSchema: EmailChannelSettingsSchema,
  formFields: [
    'fromAddress',
    'fromName',
    'imapHost',
    'imapPort',
    'imapSecurity',
    'imapUser',
    'imapPassword',
    'imapFolder',
    'smtpHost',
    'smtpPort',
    'smtpSecurity',
    'smtpUser',
    'smtpPassword',
  ],
  checkSettings: checkEmailSettings,

  async prepare({ settings, current }, io): Promise<PreparedChannel> {
    const imapPassword = settings.imapPassword ?? current?.secrets.imapPassword;
    if (!imapPassword) throw invalidField('body.settings.imapPassword', 'is required');
    const smtpPassword = settings.smtpPassword ?? current?.secrets.smtpPassword;
    const publicSettings: EmailPublicSettings = publicSettingsOf(settings);
    await checkMailbox({ settings: publicSettings, imapPassword, smtpPassword }, io.timeoutMs);
    const secrets: ChannelSecrets = { imapPassword, ...(smtpPassword ? { smtpPassword } : {}) };
    return {
      settings: publicSettings,
      secrets,
      externalKey: `imap:${publicSettings.imapUser}@${publicSettings.imapHost}:${publicSettings.imapPort}/${publicSettings.imapFolder}`,
      inboundToken: null,
      reveal: {},
    };
  },

  parseInbound: inboundItemsOf,
  fetchFile: fetchEmailFile,
  unreceivedNote: emailUnreceivedNote,

  send: (channel, outbound, io) => sendEmail(channel as never, outbound, io),
});
