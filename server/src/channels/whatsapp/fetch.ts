import type { ChannelRuntime, ConnectorError, FetchedFile, InboundFile, InboundIo } from '../connector';
import { ConnectorError as Failure } from '../connector';
import { graphCall, graphDownload } from '../meta/graph';
import { graphTargetOf } from './api';
import type { WhatsAppChannelSettings } from './settings';

/**
 * A media id of an inbound message → its bytes: `GET /<media id>` gives a short-lived URL (and
 * the size), which is then downloaded with the same bearer token (Cloud API media URLs need it).
 */
export async function fetchWhatsAppMedia(
  channel: ChannelRuntime<WhatsAppChannelSettings>,
  file: InboundFile,
  io: InboundIo,
): Promise<FetchedFile> {
  const target = graphTargetOf(channel, io);
  const media = await graphCall<{ url?: string; mime_type?: string; file_size?: number }>(
    target,
    encodeURIComponent(file.ref),
    { query: { phone_number_id: channel.settings.phoneNumberId } },
  );
  if (typeof media.file_size === 'number' && media.file_size > io.maxBytes) {
    throw new Failure('invalid_payload', `The file is larger than ${io.maxBytes} bytes`);
  }
  if (!media.url) throw new Failure('not_found', 'WhatsApp gave no URL for the media');
  const { data } = await graphDownload(media.url, target.token, {
    timeoutMs: io.timeoutMs,
    maxBytes: io.maxBytes,
    clock: io.clock,
  });
  return { data, name: file.name, mimeType: media.mime_type?.split(';')[0]?.trim() || file.mimeType };
}

/** A file that is too large or gone is noted in the text; anything else is retried (Meta redelivers). */
export function whatsAppUnreceivedNote(file: InboundFile, error: ConnectorError): string | null {
  if (error.code === 'invalid_payload' || error.code === 'not_found') {
    return `[${file.name}: not received — ${error.message}]`;
  }
  return null;
}
