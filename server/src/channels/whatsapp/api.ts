import type { ChannelRuntime, ConnectorIo } from '../connector';
import { ConnectorError } from '../connector';
import { type GraphTarget, graphBaseOf, graphVersionOf } from '../meta/graph';
import type { WhatsAppChannelSettings } from './settings';

/** Where this channel's Graph calls go, with its token; auth_revoked when it has none. */
export function graphTargetOf(
  channel: ChannelRuntime<WhatsAppChannelSettings>,
  io: Pick<ConnectorIo, 'clock' | 'timeoutMs'>,
): GraphTarget {
  const token = channel.secrets.accessToken;
  if (!token)
    throw new ConnectorError('auth_revoked', 'The channel has no access token; paste it in the settings');
  return {
    base: graphBaseOf(channel.settings),
    version: graphVersionOf(channel.settings),
    token,
    timeoutMs: io.timeoutMs,
    clock: io.clock,
  };
}
