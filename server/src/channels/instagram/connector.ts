import { metaMessagingConnector } from '../meta/messaging';

/**
 * An Instagram professional account's Direct messages as a channel (issue 16; LN-6), through the
 * Messenger Platform (the account linked to a Facebook Page, a Page token): Meta's webhook at the
 * generic path with `object: "instagram"`, story replies and mentions stored with their link, the
 * Send API through the outbox; files go out by URL (meta/messaging.ts).
 */
export const instagramConnector = metaMessagingConnector({
  kind: 'instagram',
  title: 'Instagram Direct',
  object: 'instagram',
  fields: 'name,username',
});
