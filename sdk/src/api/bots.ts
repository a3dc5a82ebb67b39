import type {
  Bot,
  BotPreview,
  BuiltinBotDefinition,
  CreateBotInput,
  Message,
  UpdateBotInput,
} from '@openlines/contract';
import { segment, type Transport } from '../transport';

export interface CreatedBot {
  bot: Bot;
  /** An external bot's token and webhook secret, shown only now; null for a built-in bot. */
  secrets: { token: string; webhookSecret: string } | null;
}

/** The account's chatbots (SPEC §7); managing them needs `manageIntegrations`. */
export class BotsApi {
  constructor(private readonly transport: Transport) {}

  list(): Promise<Bot[]> {
    return this.transport.request('GET', '/bots');
  }

  get(id: string): Promise<Bot> {
    return this.transport.request('GET', `/bots/${segment(id)}`);
  }

  create(input: CreateBotInput): Promise<CreatedBot> {
    return this.transport.request('POST', '/bots', { body: input });
  }

  update(id: string, input: UpdateBotInput): Promise<Bot> {
    return this.transport.request('PATCH', `/bots/${segment(id)}`, { body: input });
  }

  rotateSecrets(id: string): Promise<CreatedBot> {
    return this.transport.request('POST', `/bots/${segment(id)}/rotate-secrets`);
  }

  delete(id: string): Promise<void> {
    return this.transport.request('DELETE', `/bots/${segment(id)}`);
  }

  /** The no-code bot's replies to a conversation, without saving the definition. */
  preview(definition: BuiltinBotDefinition, messages: string[]): Promise<BotPreview> {
    return this.transport.request('POST', '/bots/preview', { body: { definition, messages } });
  }
}

/**
 * What an external bot does with its token (`olb_…`): a client for the bot API, for bots written
 * in TypeScript (examples/echo-bot.mjs shows the same calls with plain fetch).
 */
export class BotApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl.replace(/\/$/, '')}/api/v1/bot-api${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok)
      throw Object.assign(new Error(`bot API ${response.status}: ${text}`), {
        status: response.status,
        body: text,
      });
    return (text ? JSON.parse(text) : undefined) as T;
  }

  me(): Promise<Bot> {
    return this.#call('GET', '/me');
  }

  history(sessionId: string): Promise<Message[]> {
    return this.#call('GET', `/sessions/${segment(sessionId)}/messages`);
  }

  send(
    sessionId: string,
    message: {
      text?: string;
      buttons?: { title: string; reply?: string }[];
      attachments?: Message['attachments'];
    },
  ): Promise<Message> {
    return this.#call('POST', `/sessions/${segment(sessionId)}/messages`, message);
  }

  typing(sessionId: string): Promise<void> {
    return this.#call('POST', `/sessions/${segment(sessionId)}/typing`);
  }

  transfer(
    sessionId: string,
    to: { to: 'queue' } | { to: 'operator'; operatorId: string } | { to: 'line'; lineId: string },
  ): Promise<{ status: string }> {
    return this.#call('POST', `/sessions/${segment(sessionId)}/transfer`, to);
  }

  close(sessionId: string): Promise<{ status: string }> {
    return this.#call('POST', `/sessions/${segment(sessionId)}/close`);
  }
}
