import type { Dispatcher } from 'undici';
import { parseRetryAfter } from '../../core/backoff';
import type { Clock } from '../../core/clock';
import type { Identity } from '../../core/crm';
import {
  type CrmAdapter,
  CrmAdapterError,
  type CrmPerson,
  type ExternalClient,
  type ExternalRecordRef,
  type ExternalSession,
  type NewExternalRecord,
} from '../adapter';

/**
 * The example adapter (CRM-4): a generic external CRM with a small JSON REST API, documented in
 * docs/crm.md ("The generic REST CRM"). It authenticates with `Authorization: Bearer <token>`,
 * sends an `Idempotency-Key` on every creating call, never follows redirects, and maps answers to
 * CrmAdapterError codes: 401/403 → auth_revoked, 429 → rate_limited (with Retry-After), 4xx →
 * invalid_payload, 5xx and network errors → temporary.
 */
export interface RestCrmSettings {
  baseUrl: string;
  token: string;
}

export interface RestCrmIo {
  clock: Clock;
  timeoutMs: number;
  /** Connections only to the addresses the server allows (delivery/webhook-target.ts). */
  dispatcher?: Dispatcher;
}

const MAX_ANSWER_BYTES = 64 * 1024;

export class RestCrmAdapter implements CrmAdapter {
  readonly #base: string;

  constructor(
    private readonly settings: RestCrmSettings,
    private readonly io: RestCrmIo,
  ) {
    this.#base = settings.baseUrl.replace(/\/+$/, '');
  }

  async findClient(identities: readonly Identity[]): Promise<ExternalClient | null> {
    const answer = await this.#call<{ contact: ExternalClient | null }>('POST', '/contacts/search', {
      identities,
    });
    const contact = answer?.contact ?? null;
    if (!contact) return null;
    if (typeof contact.id !== 'string') throw this.#unreadable('/contacts/search');
    const open = contact.openRecord;
    return {
      id: contact.id,
      openRecord:
        open && (open.kind === 'lead' || open.kind === 'deal') && typeof open.id === 'string'
          ? { kind: open.kind, id: open.id }
          : null,
    };
  }

  async createClient(
    input: { name: string; identities: readonly Identity[] },
    idempotencyKey: string,
  ): Promise<{ id: string }> {
    return this.#created('/contacts', input, idempotencyKey);
  }

  async createRecord(input: NewExternalRecord, idempotencyKey: string): Promise<{ id: string }> {
    const { kind, ...body } = input;
    return this.#created(`/${kind}s`, body, idempotencyKey);
  }

  async attachSession(
    record: ExternalRecordRef,
    session: ExternalSession,
    idempotencyKey: string,
  ): Promise<void> {
    await this.#call(
      'POST',
      `/${record.kind}s/${encodeURIComponent(record.id)}/activities`,
      session,
      idempotencyKey,
    );
  }

  async changeResponsible(record: ExternalRecordRef, responsible: CrmPerson): Promise<void> {
    await this.#call('PATCH', `/${record.kind}s/${encodeURIComponent(record.id)}`, { responsible });
  }

  async #created(path: string, body: unknown, idempotencyKey: string): Promise<{ id: string }> {
    const answer = await this.#call<{ id?: unknown }>('POST', path, body, idempotencyKey);
    if (typeof answer?.id !== 'string' || answer.id.length === 0) throw this.#unreadable(path);
    return { id: answer.id };
  }

  #unreadable(path: string): CrmAdapterError {
    return new CrmAdapterError('invalid_payload', `The CRM's answer to ${path} has no usable id`);
  }

  async #call<T>(method: string, path: string, body: unknown, idempotencyKey?: string): Promise<T | null> {
    let response: Response;
    try {
      response = await fetch(`${this.#base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.settings.token}`,
          'content-type': 'application/json',
          accept: 'application/json',
          'user-agent': 'Openlines-CRM/1',
          ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
        },
        body: JSON.stringify(body),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.io.timeoutMs),
        ...(this.io.dispatcher ? { dispatcher: this.io.dispatcher } : {}),
      } as RequestInit);
    } catch (error) {
      const name = (error as { name?: string })?.name;
      const timedOut = name === 'TimeoutError' || name === 'AbortError';
      throw new CrmAdapterError(
        'temporary',
        timedOut ? `The CRM did not answer within ${this.io.timeoutMs} ms` : 'The CRM cannot be reached',
        null,
        { cause: error },
      );
    }
    const { status } = response;
    if (status >= 200 && status < 300) {
      const text = await readLimited(response);
      if (text.trim() === '') return null;
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new CrmAdapterError('invalid_payload', `The CRM's answer to ${path} is not JSON`, status);
      }
    }
    await response.body?.cancel().catch(() => {});
    const what = `The CRM answered ${status} to ${method} ${path}`;
    if (status === 401 || status === 403) throw new CrmAdapterError('auth_revoked', what, status);
    if (status === 429) {
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), this.io.clock.now());
      throw new CrmAdapterError(
        'rate_limited',
        what,
        status,
        retryAfterMs === undefined ? {} : { retryAfterMs },
      );
    }
    if (status >= 400 && status < 500 && status !== 408)
      throw new CrmAdapterError('invalid_payload', what, status);
    throw new CrmAdapterError('temporary', what, status);
  }
}

async function readLimited(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < MAX_ANSWER_BYTES) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  await reader.cancel().catch(() => {});
  return Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8');
}
