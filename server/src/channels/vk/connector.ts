import { invalidField } from '../../errors';
import {
  CHANNEL_WEBHOOK_PATH,
  type ChannelRuntime,
  type ChannelSecrets,
  ConnectorError,
  defineConnector,
  type FetchedFile,
  type InboundFile,
  type InboundIo,
  type PreparedChannel,
  requiredSecrets,
} from '../connector';
import { callVk, downloadFromVk } from './api';
import { answerConfirmation, callbackItemsOf, VK_OK, verifyCallback } from './inbound';
import { sendToVk } from './outbound';
import {
  apiBaseOf,
  checkVkSettings,
  type VkChannelSettings,
  VkChannelSettingsSchema,
  type VkPublicSettings,
} from './settings';

/**
 * A VK community's messages as a channel (issue 16; LN-6).
 *   connect   the administrator pastes the community id, its access token, the Callback API secret
 *             key and confirmation string; groups.getById checks the token belongs to that
 *             community and names it. The three secrets are stored encrypted; the community id is
 *             the external key, so one community is connected once.
 *   inbound   VK's Callback API posts to the generic webhook (POST /api/v1/channels/:id/webhook):
 *             inbound.ts verifies `secret` + `group_id`, answers `confirmation`, parses message_new /
 *             message_edit; files are downloaded from the URLs VK gives. Answered `ok` after commit.
 *   outbound  messages.send through the outbox, files by the upload-server flow (outbound.ts).
 */
export const vkConnector = defineConnector<VkChannelSettings>({
  kind: 'vk',
  title: 'VK',
  settingsSchema: VkChannelSettingsSchema,
  formFields: ['groupId', 'accessToken', 'secretKey', 'confirmation'],
  inboundPath: CHANNEL_WEBHOOK_PATH,
  checkSettings: checkVkSettings,

  async prepare({ settings, current }, io): Promise<PreparedChannel> {
    const {
      accessToken: token,
      secretKey,
      confirmation,
    } = requiredSecrets(settings, current, ['accessToken', 'secretKey', 'confirmation'], {
      accessToken: 'a community access token (Manage → API usage → Access tokens)',
      secretKey: 'the "Secret key" of the Callback API server',
      confirmation: 'the string the server must return, shown in Callback API settings',
    });
    const apiBase = apiBaseOf(settings);
    let groups: { id: number; name: string }[] | { groups: { id: number; name: string }[] };
    try {
      groups = await callVk({ base: apiBase, token, timeoutMs: io.timeoutMs }, 'groups.getById', {
        group_id: settings.groupId,
      });
    } catch (error) {
      if (
        error instanceof ConnectorError &&
        (error.code === 'auth_revoked' || error.code === 'invalid_payload')
      ) {
        throw invalidField(
          'body.settings.accessToken',
          `VK does not accept this token (${(error as Error).message})`,
        );
      }
      throw error;
    }
    const list = Array.isArray(groups) ? groups : groups.groups;
    const group = list?.[0];
    if (!group || String(group.id) !== settings.groupId) {
      throw invalidField(
        'body.settings.accessToken',
        `the token is not a token of community ${settings.groupId}`,
      );
    }
    const publicSettings: VkPublicSettings = {
      groupId: settings.groupId,
      groupName: group.name,
      ...(settings.apiBaseUrl ? { apiBaseUrl: apiBase } : {}),
    };
    const secrets: ChannelSecrets = { accessToken: token, secretKey, confirmation };
    return {
      settings: publicSettings,
      secrets,
      externalKey: settings.groupId,
      inboundToken: null,
      reveal: {},
    };
  },

  verifyInbound: verifyCallback,
  answerHandshake: answerConfirmation,
  acceptedReply: VK_OK,
  parseInbound: callbackItemsOf,
  async fetchFile(
    _channel: ChannelRuntime<VkChannelSettings>,
    file: InboundFile,
    io: InboundIo,
  ): Promise<FetchedFile> {
    if (file.size !== undefined && file.size > io.maxBytes) {
      throw new ConnectorError('invalid_payload', `The file is larger than ${io.maxBytes} bytes`);
    }
    const data = await downloadFromVk(file.ref, io.maxBytes, io.timeoutMs);
    return { data, name: file.name, mimeType: file.mimeType };
  },
  unreceivedNote(file: InboundFile, error: ConnectorError): string | null {
    if (error.code === 'invalid_payload') return `[${file.name}: not received, too large]`;
    if (error.code === 'not_found') return `[${file.name}: not received, VK no longer has it]`;
    return null;
  },

  send: sendToVk,
});
