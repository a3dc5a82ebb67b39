import { metaMessagingConnector } from '../meta/messaging';

/**
 * A Facebook Page's Messenger conversations as a channel (issue 16; LN-6): Meta's webhook at the
 * generic path, the Send API through the outbox (meta/messaging.ts, shared with Instagram).
 */
export const messengerConnector = metaMessagingConnector({
  kind: 'messenger',
  title: 'Facebook Messenger',
  object: 'page',
  fields: 'name',
});
