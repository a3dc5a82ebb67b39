import { findConnector } from '../../channels/registry';
import type { ChannelRow } from '../../store/schema';

/** Whether the channel's clients answer requests with buttons (widget) or replies (messengers). */
export function answersBy(channel: Pick<ChannelRow, 'kind'>): 'button' | 'reply' {
  return findConnector(channel.kind)?.answersBy ?? 'reply';
}
