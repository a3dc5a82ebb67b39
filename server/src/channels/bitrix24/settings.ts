import { type Static, Type } from '@sinclair/typebox';

/**
 * A Bitrix24-compatible connector activated on a line (imconnector.activate, server/src/bitrix).
 * Written by the compatibility surface, never typed in by an administrator; shown with the channel.
 */
export const Bitrix24ChannelSettingsSchema = Type.Object(
  {
    /** The application that registered the connector (bitrix_apps.id). */
    appId: Type.Integer({ minimum: 1 }),
    /** The connector's ID as registered (lower-case). */
    connector: Type.String({ minLength: 1, maxLength: 100 }),
    /** The line's Bitrix24 id (LINE), sent back in every event. */
    line: Type.Integer({ minimum: 1 }),
    /** Where the application calls us (`auth.client_endpoint`, `auth.domain` of events). */
    clientEndpoint: Type.String({ minLength: 1, maxLength: 2048 }),
    /** event.bind handlers of ONIMCONNECTORMESSAGEADD: operator messages are POSTed there. */
    handlers: Type.Array(Type.String({ minLength: 1, maxLength: 2048 }), { maxItems: 20 }),
    /**
     * event.bind handlers of the connector's other events (ONIMCONNECTORMESSAGEUPDATE, …DELETE,
     * …DIALOGSTART, …DIALOGFINISH), by event name; an event nobody bound is not sent.
     */
    eventHandlers: Type.Optional(
      Type.Record(
        Type.String({ maxLength: 100 }),
        Type.Array(Type.String({ minLength: 1, maxLength: 2048 }), { maxItems: 20 }),
      ),
    ),
    /** imconnector.connector.data.set: the connector's own description of the channel. */
    data: Type.Optional(Type.Record(Type.String(), Type.String({ maxLength: 2048 }))),
  },
  { additionalProperties: false },
);
export type Bitrix24ChannelSettings = Static<typeof Bitrix24ChannelSettingsSchema>;
