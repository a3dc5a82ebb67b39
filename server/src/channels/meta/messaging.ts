import {
  CHANNEL_WEBHOOK_PATH,
  type ChannelConnector,
  type ChannelRuntime,
  ConnectorError,
  type ConnectorIo,
  defineConnector,
  type FetchedFile,
  type InboundFile,
  type InboundIo,
  type PreparedChannel,
  requiredSecrets,
  type SendResult,
} from '../connector';
import { signatureOf, splitText, withNumberedOptions } from '../text';
import type { OutboundMessage } from '../types';
import {
  checkGraphObject,
  type GraphTarget,
  graphBaseOf,
  graphCall,
  graphDownload,
  graphVersionOf,
  WINDOW_CLOSED,
} from './graph';
import { metaMessagingItemsOf } from './messaging-inbound';
import {
  checkMetaMessagingSettings,
  type MetaMessagingSettings,
  MetaMessagingSettingsSchema,
} from './messaging-settings';
import { answerMetaHandshake, verifyMetaRequest } from './webhook';

/**
 * Messenger and Instagram Direct share the Messenger Platform: the same webhook (meta/webhook.ts),
 * the same Send API (`POST /<page or IG account id>/messages` with `recipient`, `messaging_type`
 * and `message`, answering `{recipient_id, message_id}`), the same 24-hour rule. This builds the
 * connector of each; the kinds differ in the webhook `object` and in how files go out
 * (Messenger uploads our bytes as `filedata`; Instagram takes the attachment's URL only).
 *
 * The 24-hour rule: a reply goes as `messaging_type: RESPONSE`; when the platform refuses it as
 * outside the window and the channel has `humanAgentTag`, it goes again once as
 * `MESSAGE_TAG` + `HUMAN_AGENT` (allowed up to 7 days after the client last wrote); otherwise, or
 * when that is refused too, the message fails with the reason (WINDOW_CLOSED).
 */

const SECRET_FIELDS = ['pageAccessToken', 'appSecret', 'verifyToken'] as const;
const TEXT_LIMIT = 2000;
const QUICK_REPLY_TITLE_LIMIT = 20;

function targetOf(
  channel: ChannelRuntime<MetaMessagingSettings>,
  io: Pick<ConnectorIo, 'clock' | 'timeoutMs'>,
): GraphTarget {
  const token = channel.secrets.pageAccessToken;
  if (!token)
    throw new ConnectorError(
      'auth_revoked',
      'The channel has no page access token; paste it in the settings',
    );
  return {
    base: graphBaseOf(channel.settings),
    version: graphVersionOf(channel.settings),
    token,
    timeoutMs: io.timeoutMs,
    clock: io.clock,
  };
}

/** Quick replies (up to 13, titles ≤ 20) or none when they do not fit; the text says what to answer. */
export function quickRepliesOf(quickReplies: OutboundMessage['quickReplies']) {
  if (!quickReplies || quickReplies.length === 0 || quickReplies.length > 13) return undefined;
  if (
    !quickReplies.every((q) => q.title && q.title.length <= QUICK_REPLY_TITLE_LIMIT && q.reply.length <= 1000)
  ) {
    return undefined;
  }
  return quickReplies.map((q) => ({ content_type: 'text', title: q.title, payload: q.reply }));
}

function attachmentType(mimeType: string): 'image' | 'video' | 'audio' | 'file' {
  const type = mimeType.toLowerCase();
  if (type.startsWith('image/')) return 'image';
  if (type.startsWith('video/')) return 'video';
  if (type.startsWith('audio/')) return 'audio';
  return 'file';
}

type Body = { json: Record<string, unknown> } | { form: FormData };

/** Sends once as RESPONSE; outside the window, once more with the HUMAN_AGENT tag when allowed. */
async function sendWithinRules(
  target: GraphTarget,
  channel: ChannelRuntime<MetaMessagingSettings>,
  build: (rules: Record<string, string>) => Body,
): Promise<string> {
  const call = (rules: Record<string, string>) =>
    graphCall<{ message_id?: string }>(target, `${channel.settings.pageId}/messages`, build(rules));
  let sent: { message_id?: string };
  try {
    sent = await call({ messaging_type: 'RESPONSE' });
  } catch (error) {
    const closed = error instanceof ConnectorError && error.message.startsWith(WINDOW_CLOSED);
    if (!closed || channel.settings.humanAgentTag !== true) throw error;
    sent = await call({ messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT' });
  }
  if (!sent.message_id)
    throw new ConnectorError('temporary', 'The platform accepted the message without an id');
  return sent.message_id;
}

function jsonBody(recipientId: string, message: Record<string, unknown>) {
  return (rules: Record<string, string>): Body => ({
    json: { recipient: { id: recipientId }, ...rules, message },
  });
}

async function sendMessaging(
  kind: 'messenger' | 'instagram',
  channel: ChannelRuntime<MetaMessagingSettings>,
  outbound: OutboundMessage,
  io: ConnectorIo,
): Promise<SendResult> {
  const target = targetOf(channel, io);
  const recipientId = outbound.recipientId;
  const name = signatureOf(outbound);
  const author = name ? `${name}:\n` : '';
  const quick = quickRepliesOf(outbound.quickReplies);
  // Options quick replies cannot carry (more than 13, long titles) are numbered lines instead.
  const body = quick ? outbound.text : withNumberedOptions(outbound.text, outbound.quickReplies);
  const text = body ? `${author}${body}` : '';
  if (!text && outbound.attachments.length === 0) {
    throw new ConnectorError('invalid_payload', 'The message has neither text nor attachments');
  }
  const ids: string[] = [];
  const pieces = text ? splitText(text, TEXT_LIMIT) : [];
  for (const [index, piece] of pieces.entries()) {
    const last = index === pieces.length - 1;
    const message = { text: piece, ...(last && quick ? { quick_replies: quick } : {}) };
    ids.push(await sendWithinRules(target, channel, jsonBody(recipientId, message)));
  }
  for (const attachment of outbound.attachments) {
    const type = attachmentType(attachment.mimeType);
    let data: Buffer | null = null;
    if (kind === 'messenger') {
      try {
        data = (await io.readAttachment?.(attachment)) ?? null;
      } catch (error) {
        throw new ConnectorError(
          'invalid_payload',
          `The attachment "${attachment.name}" is no longer stored`,
          {
            cause: error,
          },
        );
      }
    }
    if (data) {
      const bytes = data;
      ids.push(
        await sendWithinRules(target, channel, (rules) => {
          const form = new FormData();
          form.set('recipient', JSON.stringify({ id: recipientId }));
          for (const [key, value] of Object.entries(rules)) form.set(key, value);
          form.set('message', JSON.stringify({ attachment: { type, payload: { is_reusable: false } } }));
          form.set(
            'filedata',
            new Blob([new Uint8Array(bytes)], { type: attachment.mimeType }),
            attachment.name,
          );
          return { form };
        }),
      );
    } else {
      if (!/^https?:\/\//i.test(attachment.url)) {
        throw new ConnectorError('invalid_payload', `The attachment "${attachment.name}" has no usable URL`);
      }
      const message = { attachment: { type, payload: { url: attachment.url } } };
      ids.push(await sendWithinRules(target, channel, jsonBody(recipientId, message)));
    }
  }
  return { externalId: ids[0]! };
}

async function fetchAttachment(
  _channel: ChannelRuntime<MetaMessagingSettings>,
  file: InboundFile,
  io: InboundIo,
): Promise<FetchedFile> {
  // Attachment URLs are signed CDN links: no token.
  const { data, mimeType } = await graphDownload(file.ref, null, {
    timeoutMs: io.timeoutMs,
    maxBytes: io.maxBytes,
    clock: io.clock,
  });
  return { data, name: file.name, mimeType: mimeType?.split(';')[0]?.trim() || file.mimeType };
}

export function metaMessagingConnector(options: {
  kind: 'messenger' | 'instagram';
  title: string;
  object: 'page' | 'instagram';
  /** The fields asked for when the connection is checked; `name` is shown. */
  fields: string;
}): ChannelConnector<MetaMessagingSettings> {
  return defineConnector<MetaMessagingSettings>({
    kind: options.kind,
    title: options.title,
    settingsSchema: MetaMessagingSettingsSchema,
    formFields: ['pageId', 'pageAccessToken', 'appSecret', 'verifyToken', 'humanAgentTag'],
    inboundPath: CHANNEL_WEBHOOK_PATH,
    holdsOutboxOnAuthFailure: true,
    checkSettings: checkMetaMessagingSettings,

    async prepare({ settings, current }, io): Promise<PreparedChannel> {
      const secrets = requiredSecrets(settings, current, SECRET_FIELDS);
      const page = await checkGraphObject<{ name?: string; username?: string }>(settings, {
        token: secrets.pageAccessToken,
        timeoutMs: io.timeoutMs,
        clock: io.clock,
        id: settings.pageId,
        fields: options.fields,
        title: options.title,
        tokenField: 'pageAccessToken',
        idField: 'pageId',
        idWhat: 'id',
      });
      const name = page.username ? `@${page.username}` : page.name;
      return {
        settings: {
          pageId: settings.pageId,
          humanAgentTag: settings.humanAgentTag ?? false,
          ...(settings.graphApiBase ? { graphApiBase: graphBaseOf(settings) } : {}),
          ...(settings.graphApiVersion ? { graphApiVersion: settings.graphApiVersion } : {}),
          ...(name ? { name } : {}),
        },
        secrets,
        externalKey: settings.pageId,
        inboundToken: null,
        reveal: {},
      };
    },

    verifyInbound: (request, channel) => verifyMetaRequest(request, channel.secrets),
    answerHandshake: (request) => answerMetaHandshake(request),
    parseInbound: (payload, channel) =>
      metaMessagingItemsOf(payload, options.object, channel.settings.pageId),
    fetchFile: fetchAttachment,
    unreceivedNote: (file, error) =>
      error.code === 'invalid_payload' || error.code === 'not_found'
        ? `[${file.name}: not received — ${error.message}]`
        : null,

    send: (channel, outbound, io) => sendMessaging(options.kind, channel, outbound, io),
  });
}
