import { type IdentifyInput, type KeyValueStore, STORE_TOKEN } from '../host';
import type { PendingMessage } from './conversation';

// These names are in visitors' browsers already (under `openlines:<key>:`): a renamed one is lost.
const STORE_OUTBOX = 'outbox';
const STORE_ANSWERED = 'done';
const STORE_IDENTIFIED = 'identified';
/** Prompts remembered as answered: more than any conversation asks, and the storage stays small. */
const ANSWERED_KEPT = 50;

function readJson<T>(raw: string | null, fallback: T): T {
  try {
    return raw ? (JSON.parse(raw) as T) : fallback;
  } catch {
    return fallback;
  }
}

const identitySignature = (input: IdentifyInput) => JSON.stringify([input.id, input.name, input.email]);

/**
 * What the widget keeps in the site's storage for its visitor, so that a reload or another page of
 * the site goes on with the same conversation: the visitor's token, the messages not sent yet, the
 * prompts already answered here, and whom the server was last told the visitor is.
 */
export class VisitorStorage {
  /** Ids of the system messages asking for consent, contact details or a rating, answered here. */
  readonly answered: Set<string>;

  constructor(private readonly store: KeyValueStore) {
    this.answered = new Set(readJson<string[]>(store.get(STORE_ANSWERED), []));
  }

  get token(): string | null {
    return this.store.get(STORE_TOKEN);
  }

  saveToken(token: string): void {
    this.store.set(STORE_TOKEN, token);
  }

  forgetToken(): void {
    this.store.remove(STORE_TOKEN);
  }

  /**
   * A message that was on its way when the page went away is queued again: its client message id
   * keeps the server from storing it twice. A refused one stays refused until the visitor retries.
   */
  readOutbox(): PendingMessage[] {
    return readJson<PendingMessage[]>(this.store.get(STORE_OUTBOX), []).map((p) => ({
      ...p,
      state: p.state === 'failed' ? 'failed' : 'queued',
    }));
  }

  writeOutbox(pending: readonly PendingMessage[]): void {
    this.store.set(STORE_OUTBOX, JSON.stringify(pending.map(({ error: _error, ...p }) => p)));
  }

  markAnswered(messageId: string): void {
    this.answered.add(messageId);
    this.store.set(STORE_ANSWERED, JSON.stringify([...this.answered].slice(-ANSWERED_KEPT)));
  }

  /** The site identifies its user on every page; the server needs telling only when that changes. */
  isIdentifiedAs(input: IdentifyInput): boolean {
    return this.store.get(STORE_IDENTIFIED) === identitySignature(input);
  }

  rememberIdentity(input: IdentifyInput): void {
    this.store.set(STORE_IDENTIFIED, identitySignature(input));
  }

  /** `Openlines.reset()`: the next conversation starts from nothing. */
  clear(): void {
    this.store.remove(STORE_TOKEN);
    this.store.remove(STORE_OUTBOX);
    this.store.remove(STORE_ANSWERED);
    this.store.remove(STORE_IDENTIFIED);
    this.answered.clear();
  }
}
