import {
  CHANNEL_WEBHOOK_PATH,
  ConnectorError,
  defineConnector,
  type PreparedChannel,
  requiredSecrets,
} from '../connector';
import { checkGraphObject, graphBaseOf, graphCall } from '../meta/graph';
import { answerMetaHandshake, verifyMetaRequest } from '../meta/webhook';
import { graphTargetOf } from './api';
import { fetchWhatsAppMedia, whatsAppUnreceivedNote } from './fetch';
import { whatsAppItemsOf } from './inbound';
import { sendToWhatsApp } from './outbound';
import {
  checkWhatsAppSettings,
  type WhatsAppChannelSettings,
  WhatsAppChannelSettingsSchema,
} from './settings';

interface WaTemplate {
  name?: string;
  language?: string;
  status?: string;
  category?: string;
  components?: { type?: string; text?: string }[];
}

/** Where Meta posts this kind's webhooks: the generic path, per channel. */

const SECRET_FIELDS = ['accessToken', 'appSecret', 'verifyToken'] as const;

/**
 * A WhatsApp Business phone number on the Cloud API as a channel (issue 16; LN-6).
 *   connect   the administrator pastes the phone number id, an access token, the app secret and a
 *             verify token; `GET /<phone number id>` checks the token and names the number. Secrets
 *             are encrypted; the phone number id is the external key (one number, one channel).
 *   inbound   Meta's webhook at the generic path (CHANNEL_WEBHOOK_PATH): the GET `hub.challenge`
 *             handshake and `X-Hub-Signature-256` over the raw body (meta/webhook.ts); messages,
 *             media (fetched by media id), location, contacts, button/list replies; `statuses`
 *             move our messages to delivered / read / failed.
 *   outbound  `POST /<phone number id>/messages` through the outbox: text, media uploaded from
 *             our storage, interactive buttons or lists for quick replies and rating. Graph errors
 *             map to the outbox's codes in meta/graph.ts (190 → auth_revoked, 130429/131056 →
 *             rate_limited, 131047 → the 24-hour window is closed).
 */
export const whatsAppConnector = defineConnector<WhatsAppChannelSettings>({
  kind: 'whatsapp',
  title: 'WhatsApp',
  settingsSchema: WhatsAppChannelSettingsSchema,
  formFields: ['phoneNumberId', 'accessToken', 'appSecret', 'verifyToken', 'businessAccountId'],
  inboundPath: CHANNEL_WEBHOOK_PATH,
  holdsOutboxOnAuthFailure: true,
  checkSettings: checkWhatsAppSettings,

  async prepare({ settings, current }, io): Promise<PreparedChannel> {
    const secrets = requiredSecrets(settings, current, SECRET_FIELDS);
    const number = await checkGraphObject<{ display_phone_number?: string; verified_name?: string }>(
      settings,
      {
        token: secrets.accessToken,
        timeoutMs: io.timeoutMs,
        clock: io.clock,
        id: settings.phoneNumberId,
        fields: 'display_phone_number,verified_name',
        title: 'WhatsApp',
        tokenField: 'accessToken',
        idField: 'phoneNumberId',
        idWhat: 'phone number id',
      },
    );
    const publicSettings: Record<string, unknown> = {
      phoneNumberId: settings.phoneNumberId,
      ...(settings.businessAccountId ? { businessAccountId: settings.businessAccountId } : {}),
      ...(settings.graphApiBase ? { graphApiBase: graphBaseOf(settings) } : {}),
      ...(settings.graphApiVersion ? { graphApiVersion: settings.graphApiVersion } : {}),
      ...(number.display_phone_number ? { displayPhoneNumber: number.display_phone_number } : {}),
      ...(number.verified_name ? { verifiedName: number.verified_name } : {}),
    };
    return {
      settings: publicSettings,
      secrets,
      externalKey: settings.phoneNumberId,
      inboundToken: null,
      reveal: {},
    };
  },

  verifyInbound: (request, channel) => verifyMetaRequest(request, channel.secrets),
  answerHandshake: (request) => answerMetaHandshake(request),
  parseInbound: (payload, channel) => whatsAppItemsOf(payload, channel.settings.phoneNumberId),
  fetchFile: fetchWhatsAppMedia,
  unreceivedNote: whatsAppUnreceivedNote,

  replyWindowHours: 24,
  async listTemplates(channel, io) {
    const account = channel.settings.businessAccountId;
    if (!account) {
      throw new ConnectorError(
        'invalid_payload',
        'Set the WhatsApp Business Account ID in the channel settings to list its templates',
      );
    }
    const listed = await graphCall<{ data?: WaTemplate[] }>(
      graphTargetOf(channel, io),
      `${account}/message_templates`,
      {
        query: { status: 'APPROVED', fields: 'name,language,status,category,components', limit: '200' },
      },
    );
    return (listed.data ?? [])
      .filter((t) => t.status === 'APPROVED' && t.name && t.language)
      .map((t) => {
        const body = t.components?.find((c) => c.type === 'BODY')?.text ?? '';
        return {
          name: t.name!,
          language: t.language!,
          category: t.category ?? '',
          body,
          parameterCount: new Set(body.match(/\{\{\d+\}\}/g) ?? []).size,
        };
      });
  },

  send: sendToWhatsApp,
});
