import type { CrmRecordKind, Identity } from '../core/crm';

/**
 * The external-CRM adapter interface (SPEC §12 CRM-4; docs/crm.md "External CRMs"): what the
 * engine needs from a CRM that is not the built-in one. An account that chooses an adapter keeps
 * the built-in CRM out of its sessions; instead, workers/crm-sync.ts turns its event log into
 * durable sync jobs and makes these calls from them, outside any transaction and never on the
 * message path, retrying until they succeed.
 *
 * An adapter is one folder under crm-adapters/ (like `rest/`) and one line in registry.ts. Every
 * call may be repeated (a job is retried after a timeout whose first attempt may have succeeded):
 * the creating calls take an idempotency key, stable across the retries of one job step, which the
 * adapter passes on to its CRM.
 */
export interface CrmAdapter {
  /**
   * The client the CRM knows by any of these identities (in the order they count: the channel user,
   * then the phone in E.164, then the case-folded e-mail), with their open lead or deal, or null.
   */
  findClient(identities: readonly Identity[]): Promise<ExternalClient | null>;
  /** A new client (contact) with these identities. */
  createClient(
    input: { name: string; identities: readonly Identity[] },
    idempotencyKey: string,
  ): Promise<{ id: string }>;
  /** A lead or deal for a client, as `CRM_CREATE` asks. */
  createRecord(input: NewExternalRecord, idempotencyKey: string): Promise<{ id: string }>;
  /** CRM-3: the session as an activity on the record, with the link that opens its dialog. */
  attachSession(record: ExternalRecordRef, session: ExternalSession, idempotencyKey: string): Promise<void>;
  /** The record's responsible is now this person (the operator who took the session, or a transfer). */
  changeResponsible(record: ExternalRecordRef, responsible: CrmPerson): Promise<void>;
}

export interface ExternalRecordRef {
  kind: CrmRecordKind;
  id: string;
}

export interface ExternalClient {
  id: string;
  /** The client's open lead or deal: a new session attaches to it instead of creating another. */
  openRecord: ExternalRecordRef | null;
}

/** A user of ours, as an external CRM can match them to one of its own (by e-mail). */
export interface CrmPerson {
  id: string;
  name: string;
  email: string;
}

export interface NewExternalRecord {
  kind: CrmRecordKind;
  title: string;
  clientId: string;
  /** `CRM_SOURCE`: the line's name, or the chosen source id. */
  source: string;
  /** The channel kind the client wrote from (`telegram`, `widget`, …). */
  channelKind: string;
  responsible: CrmPerson | null;
}

export interface ExternalSession {
  id: string;
  dialogId: string;
  /** Opens the dialog (its transcript) in the web app. */
  transcriptUrl: string;
  startedAt: string;
  operator: CrmPerson | null;
}

export const CRM_ADAPTER_ERROR_CODES = [
  'temporary',
  'rate_limited',
  'auth_revoked',
  'invalid_payload',
] as const;
export type CrmAdapterErrorCode = (typeof CRM_ADAPTER_ERROR_CODES)[number];

/**
 * The one error adapters throw (as channel connectors do, STYLE convention 2). Every code is
 * retried — a revoked token or a refused payload waits for an administrator to fix the settings,
 * it is not dropped; `rate_limited` waits at least `retryAfterMs`. The message is ours (no text
 * from the CRM's answer): it is stored on the job and shown to administrators.
 */
export class CrmAdapterError extends Error {
  readonly retryAfterMs: number | undefined;

  constructor(
    readonly code: CrmAdapterErrorCode,
    message: string,
    readonly status: number | null = null,
    options: { retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CrmAdapterError';
    this.retryAfterMs = options.retryAfterMs;
  }
}
