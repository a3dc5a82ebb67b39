import type {
  BitrixApp,
  BitrixCredentialBody,
  BitrixWebhook,
  CreatedBitrixApp,
  CreatedBitrixWebhook,
} from '@openlines/contract';
import type { Transport } from '../transport';

/**
 * Credentials of the Bitrix24-compatible REST surface (`/bitrix24/*`, needs manageIntegrations):
 * local applications (`auth=<access token>`) and incoming webhooks. Secrets come back once.
 */
export class Bitrix24Api {
  constructor(private readonly transport: Transport) {}

  listApps(): Promise<BitrixApp[]> {
    return this.transport.request('GET', '/bitrix24/apps');
  }

  createApp(input: BitrixCredentialBody): Promise<CreatedBitrixApp> {
    return this.transport.request('POST', '/bitrix24/apps', { body: input });
  }

  revokeApp(id: number): Promise<void> {
    return this.transport.request('DELETE', `/bitrix24/apps/${id}`);
  }

  listWebhooks(): Promise<BitrixWebhook[]> {
    return this.transport.request('GET', '/bitrix24/webhooks');
  }

  createWebhook(input: BitrixCredentialBody): Promise<CreatedBitrixWebhook> {
    return this.transport.request('POST', '/bitrix24/webhooks', { body: input });
  }

  revokeWebhook(id: number): Promise<void> {
    return this.transport.request('DELETE', `/bitrix24/webhooks/${id}`);
  }
}
