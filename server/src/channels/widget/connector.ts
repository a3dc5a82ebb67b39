import { randomBytes } from 'node:crypto';
import { defineConnector, type PreparedChannel } from '../connector';
import {
  checkWidgetSettings,
  normalizeWidgetSettings,
  type WidgetChannelSettings,
  WidgetChannelSettingsSchema,
} from './settings';

/** Prefix of the identity secret that signs visitor ids on the site's server (identity.ts). */
export const IDENTITY_SECRET_PREFIX = 'olwi_';

/** The public key in the install snippet: it names the channel, it grants nothing. */
export function newPublicKey(): string {
  return randomBytes(18).toString('base64url');
}

/**
 * The website chat widget (LN-6). Visitors talk to the public endpoints under
 * /api/v1/widget/<publicKey>/… (edge.ts) and to the visitor WebSocket
 * (ws/visitor-gateway.ts); their messages enter through the same intake as every channel.
 *
 *   settings  allowed domains, appearance, language; `publicKey` is set here, once, and is also the
 *             channel's external key (one key, one channel)
 *   secrets   the identity secret (`olwi_…`), shown once on creation and on rotation
 *   outbound  nothing to call: the visitor's browser gets operator messages from its socket (or
 *             from the history on its next visit), so messages are stored as sent, with no outbox
 *             round (`deliversOverOwnSocket`); `send` reports success for rows queued before that
 */
export const widgetConnector = defineConnector<WidgetChannelSettings>({
  kind: 'widget',
  title: 'Website widget',
  // AG-2, QR-1: the visitor consents and rates with buttons, never by the next message.
  answersBy: 'button',
  deliversOverOwnSocket: true,
  settingsSchema: WidgetChannelSettingsSchema,
  formFields: ['allowedDomains', 'appearance.title', 'appearance.color', 'appearance.position', 'language'],
  installSnippet: true,
  checkSettings: checkWidgetSettings,

  async prepare({ settings, current, rotate }): Promise<PreparedChannel> {
    const existingKey = current?.settings.publicKey;
    // The key is in every page that embeds the widget: it never changes, whatever is sent.
    const publicKey = typeof existingKey === 'string' && existingKey ? existingKey : newPublicKey();
    const publicSettings = { ...normalizeWidgetSettings(settings, publicKey) };
    if (current && !rotate) return { settings: publicSettings, secrets: current.secrets, reveal: {} };
    const identitySecret = IDENTITY_SECRET_PREFIX + randomBytes(32).toString('base64url');
    return {
      settings: publicSettings,
      secrets: { identitySecret },
      externalKey: publicKey,
      reveal: { identitySecret },
    };
  },

  async send() {
    return {};
  },
});
