import { ApiTokensApi, AuthApi } from './api/auth';
import { Bitrix24Api } from './api/bitrix24';
import { BotsApi } from './api/bots';
import { ChannelsApi, DialogsApi, FilesApi, LinesApi, QuickAnswersApi } from './api/conversations';
import { CrmApi } from './api/crm';
import { DepartmentsApi, RolesApi } from './api/organization';
import { PrivacyApi } from './api/privacy';
import { StatisticsApi } from './api/statistics';
import { UsersApi } from './api/users';
import { WebhooksApi } from './api/webhooks';
import { Realtime, type RealtimeOptions } from './realtime';
import { type ClientOptions, type RequestOptions, SESSION_COOKIE, Transport } from './transport';
import type { Health } from './types';

/**
 * The Openlines API client. One resource group per area of the API, all built on one `Transport`;
 * a new area is a class in `api/` taking the transport, plus one field here.
 *
 * ```ts
 * const client = new OpenlinesClient({ baseUrl: 'http://localhost:3000' });
 * await client.auth.login({ email, password });
 * const users = await client.users.list({ active: true });
 * const live = client.realtime({ WebSocket }); // `ws` in Node 20
 * live.on('event', (event) => console.log(event.cursor, event.type));
 * ```
 */
export class OpenlinesClient {
  readonly transport: Transport;
  readonly auth: AuthApi;
  readonly apiTokens: ApiTokensApi;
  readonly users: UsersApi;
  readonly departments: DepartmentsApi;
  readonly roles: RolesApi;
  readonly lines: LinesApi;
  readonly channels: ChannelsApi;
  readonly dialogs: DialogsApi;
  readonly quickAnswers: QuickAnswersApi;
  readonly bots: BotsApi;
  readonly files: FilesApi;
  readonly privacy: PrivacyApi;
  readonly webhooks: WebhooksApi;
  readonly statistics: StatisticsApi;
  readonly bitrix24: Bitrix24Api;
  readonly crm: CrmApi;

  constructor(options: ClientOptions) {
    this.transport = new Transport(options);
    this.auth = new AuthApi(this.transport);
    this.apiTokens = new ApiTokensApi(this.transport);
    this.users = new UsersApi(this.transport);
    this.departments = new DepartmentsApi(this.transport);
    this.roles = new RolesApi(this.transport);
    this.lines = new LinesApi(this.transport);
    this.channels = new ChannelsApi(this.transport);
    this.dialogs = new DialogsApi(this.transport);
    this.quickAnswers = new QuickAnswersApi(this.transport);
    this.bots = new BotsApi(this.transport);
    this.crm = new CrmApi(this.transport);
    this.files = new FilesApi(this.transport);
    this.privacy = new PrivacyApi(this.transport);
    this.webhooks = new WebhooksApi(this.transport);
    this.statistics = new StatisticsApi(this.transport);
    this.bitrix24 = new Bitrix24Api(this.transport);
  }

  get baseUrl(): string {
    return this.transport.baseUrl;
  }

  /** Switches to (or away from) API-token auth. */
  setToken(token: string | null): void {
    this.transport.token = token;
  }

  /** The session cookie this client holds outside browsers (null in browsers: it is httpOnly). */
  get sessionCookie(): string | null {
    return this.transport.cookies.get(SESSION_COOKIE) ?? null;
  }

  /** Any call under `/api/v1`, for endpoints this SDK does not wrap yet. */
  request<T>(method: string, path: string, options?: RequestOptions): Promise<T> {
    return this.transport.request<T>(method, path, options);
  }

  /** The process is alive. */
  health(): Promise<Health> {
    return this.transport.send('GET', '/healthz');
  }

  /** The database is reachable and migrated (throws `unavailable` otherwise). */
  ready(): Promise<Health> {
    return this.transport.send('GET', '/readyz');
  }

  /** Opens the event stream of the signed-in user (see `Realtime`). */
  realtime(options: RealtimeOptions = {}): Realtime {
    return new Realtime(this.transport, options);
  }
}
