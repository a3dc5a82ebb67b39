import type { Api } from 'grammy';
import { AppError } from '../../errors';
import {
  type ChannelRuntime,
  ConnectorError,
  type FetchedFile,
  type InboundFile,
  type InboundIo,
} from '../connector';
import { botApi, callBotApi, downloadFile } from './bot-api';
import { apiRootOf, type TelegramChannelSettings } from './settings';

/**
 * The Telegram side of receiving (the connector's inbound hooks): files by file id (getFile, then
 * the download under the API root), the client's profile photo, the answer to a button press, and
 * which failures mean a file can never be received. Platform I/O only: storing the bytes and the
 * message is the generic inbound path's job (services/channel-inbound.ts).
 */

function apiOf(channel: ChannelRuntime<TelegramChannelSettings>, io: InboundIo): { api: Api; token: string } {
  const token = channel.secrets.botToken;
  if (!token) throw new ConnectorError('auth_revoked', 'The channel has no bot token');
  return { api: botApi(token, { apiRoot: apiRootOf(channel.settings), timeoutMs: io.timeoutMs }), token };
}

/**
 * A file by its file id. A size Telegram reports above `maxBytes` is refused before asking for it
 * (invalid_payload, "larger"); getFile refuses files over 20 MB ("file is too big").
 */
export async function fetchTelegramFile(
  channel: ChannelRuntime<TelegramChannelSettings>,
  file: InboundFile,
  io: InboundIo,
): Promise<FetchedFile> {
  if (file.size !== undefined && file.size > io.maxBytes) {
    throw new ConnectorError('invalid_payload', `The file is larger than ${io.maxBytes} bytes`);
  }
  const { api, token } = apiOf(channel, io);
  const described = await callBotApi(() => api.getFile(file.ref));
  if (!described.file_path) throw new ConnectorError('not_found', 'Telegram gave no path for the file');
  const data = await downloadFile(
    { apiRoot: apiRootOf(channel.settings), timeoutMs: io.timeoutMs, token, maxBytes: io.maxBytes },
    described.file_path,
  );
  return { data, name: file.name, mimeType: file.mimeType };
}

/**
 * Why a file can never be received, as the note stored in its place; null: the failure may pass
 * (network, 5xx), so the update is delivered again. A storage refusal (an empty file) arrives as
 * invalid_payload caused by the AppError.
 */
export function telegramUnreceivedNote(file: InboundFile, error: ConnectorError): string | null {
  let reason: string;
  if (error.cause instanceof AppError) {
    reason = error.cause.code === 'payload_too_large' ? 'too large' : error.cause.message;
  } else if (error.code === 'invalid_payload' || error.code === 'not_found') {
    reason = /too big|larger/i.test(error.message) ? 'too large' : 'Telegram does not provide it';
  } else {
    return null;
  }
  return `📎 ${file.name} (not received: ${reason})`;
}

/** A card needs a small picture: the first size at least 160 px wide, else the largest there is. */
const AVATAR_MIN_WIDTH = 160;

/** The client's current profile photo (`ref` is their Telegram user id), or null when they have none. */
export async function fetchTelegramAvatar(
  channel: ChannelRuntime<TelegramChannelSettings>,
  ref: string,
  io: InboundIo,
): Promise<FetchedFile | null> {
  const { api } = apiOf(channel, io);
  const photos = await callBotApi(() => api.getUserProfilePhotos(Number(ref), { limit: 1 }));
  const sizes = photos.photos[0];
  if (!sizes || sizes.length === 0) return null;
  const ordered = [...sizes].sort((a, b) => a.width - b.width);
  const size = ordered.find((s) => s.width >= AVATAR_MIN_WIDTH) ?? ordered[ordered.length - 1]!;
  return fetchTelegramFile(
    channel,
    {
      ref: size.file_id,
      name: `avatar_${size.file_unique_id}.jpg`,
      mimeType: 'image/jpeg',
      ...(size.file_size === undefined ? {} : { size: size.file_size }),
    },
    io,
  );
}

/** Stops the spinner on the client's button (`ack` is the callback query id). */
export async function answerTelegramCallback(
  channel: ChannelRuntime<TelegramChannelSettings>,
  ack: string,
  io: InboundIo,
): Promise<void> {
  const { api } = apiOf(channel, io);
  await callBotApi(() => api.answerCallbackQuery(ack));
}
