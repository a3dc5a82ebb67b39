export { ApiTokensApi, AuthApi } from './api/auth';
export { Bitrix24Api } from './api/bitrix24';
export { BotApiClient, BotsApi, type CreatedBot } from './api/bots';
export {
  ApiChannelSender,
  ChannelsApi,
  type ChannelWithSecrets,
  DialogsApi,
  FilesApi,
  type InboundResult,
  LinesApi,
  QuickAnswersApi,
} from './api/conversations';
export { CrmApi, type CrmPageOf } from './api/crm';
export { DepartmentsApi, RolesApi } from './api/organization';
export { PrivacyApi } from './api/privacy';
export { StatisticsApi, type StatisticsFilter, type StatisticsReportName } from './api/statistics';
export { UsersApi } from './api/users';
export { WebhooksApi } from './api/webhooks';
export { OpenlinesClient } from './client';
export { CookieJar } from './cookie-jar';
export { OpenlinesError } from './errors';
export {
  CLOSE_UNAUTHORIZED,
  Realtime,
  type RealtimeEvents,
  type RealtimeOptions,
  type WebSocketConstructor,
  type WebSocketLike,
} from './realtime';
export {
  API_PREFIX,
  type ClientOptions,
  type FetchFunction,
  type QueryValue,
  type RequestOptions,
  SESSION_COOKIE,
  Transport,
} from './transport';
export type * from './types';
