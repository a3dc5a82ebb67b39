import type {
  CreateWebhookBody,
  UpdateWebhookBody,
  Webhook,
  WebhookDelivery,
  WebhookWithSecret,
} from '@openlines/contract';
import { segment, type Transport } from '../transport';

/** Event webhooks (docs/webhooks.md): subscriptions, their delivery log and "send again". */
export class WebhooksApi {
  constructor(private readonly transport: Transport) {}

  list(): Promise<Webhook[]> {
    return this.transport.request('GET', '/webhooks');
  }

  get(id: string): Promise<Webhook> {
    return this.transport.request('GET', `/webhooks/${segment(id)}`);
  }

  /** The answer holds the signing secret: shown this once. */
  create(input: CreateWebhookBody): Promise<WebhookWithSecret> {
    return this.transport.request('POST', '/webhooks', { body: input });
  }

  /** `status: 'active'` resumes a paused webhook from where it stopped. */
  update(id: string, input: UpdateWebhookBody): Promise<Webhook> {
    return this.transport.request('PATCH', `/webhooks/${segment(id)}`, { body: input });
  }

  rotateSecret(id: string): Promise<WebhookWithSecret> {
    return this.transport.request('POST', `/webhooks/${segment(id)}/secret`);
  }

  delete(id: string): Promise<void> {
    return this.transport.request('DELETE', `/webhooks/${segment(id)}`);
  }

  /** Newest first; `before` pages back. */
  deliveries(id: string, query: { before?: string; limit?: number } = {}): Promise<WebhookDelivery[]> {
    return this.transport.request('GET', `/webhooks/${segment(id)}/deliveries`, { query });
  }

  redeliver(id: string, deliveryId: string): Promise<WebhookDelivery> {
    return this.transport.request(
      'POST',
      `/webhooks/${segment(id)}/deliveries/${segment(deliveryId)}/redeliver`,
    );
  }
}
