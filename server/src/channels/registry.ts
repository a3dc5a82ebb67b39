import { apiConnector } from './api/connector';
import { bitrix24Connector } from './bitrix24/connector';
import type { ChannelConnector } from './connector';
import { emailConnector } from './email/connector';
import { instagramConnector } from './instagram/connector';
import { messengerConnector } from './messenger/connector';
import { telegramConnector } from './telegram/connector';
import { vkConnector } from './vk/connector';
import { whatsAppConnector } from './whatsapp/connector';
import { widgetConnector } from './widget/connector';

/**
 * Every channel kind Openlines can connect, by `channels.kind`. Adding a channel means adding its
 * folder and one line here (STYLE convention 1); nothing else switches on the kind.
 */
const CONNECTORS: Readonly<Record<string, ChannelConnector>> = {
  [apiConnector.kind]: apiConnector as ChannelConnector,
  [telegramConnector.kind]: telegramConnector as ChannelConnector,
  [widgetConnector.kind]: widgetConnector as ChannelConnector,
  [emailConnector.kind]: emailConnector as ChannelConnector,
  [whatsAppConnector.kind]: whatsAppConnector as ChannelConnector,
  [messengerConnector.kind]: messengerConnector as ChannelConnector,
  [instagramConnector.kind]: instagramConnector as ChannelConnector,
  [vkConnector.kind]: vkConnector as ChannelConnector,
  [bitrix24Connector.kind]: bitrix24Connector as ChannelConnector,
};

export function findConnector(kind: string): ChannelConnector | undefined {
  return Object.hasOwn(CONNECTORS, kind) ? CONNECTORS[kind] : undefined;
}

/** The kinds whose connectors hear when a session starts or ends (`sendDialogEvent`). */
export function dialogEventKinds(): string[] {
  return Object.keys(CONNECTORS).filter((kind) => CONNECTORS[kind]!.sendDialogEvent !== undefined);
}

export function connectorKinds(): string[] {
  return Object.keys(CONNECTORS).sort();
}
