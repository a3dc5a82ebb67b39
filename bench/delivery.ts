import type { Dialog } from '@openlines/contract';

interface Waiter {
  dialogId: string;
  resolve(at: number): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * Matches client messages to their arrival on the WebSocket of the operator holding their dialog.
 * Every queue member's socket receives `message.created`; the holder is learnt from
 * `dialog.updated` (its session's operator). Either may arrive before the HTTP answer does, and the
 * holder of a new dialog may be learnt after its first message arrived, so each piece of news
 * re-checks the messages waiting for it.
 */
export class DeliveryTracker {
  /** messageId → operator userId → arrival time (performance.now()). */
  readonly #arrivals = new Map<string, Map<string, number>>();
  /** dialogId → the operator holding its session. */
  readonly #holders = new Map<string, string>();
  readonly #waiting = new Map<string, Waiter>();
  readonly #waitingByDialog = new Map<string, Set<string>>();
  /** Frames delivered to all sockets together (the fan-out). */
  framesReceived = 0;

  messageArrived(userId: string, messageId: string, at: number): void {
    this.framesReceived++;
    let byUser = this.#arrivals.get(messageId);
    if (!byUser) {
      byUser = new Map();
      this.#arrivals.set(messageId, byUser);
    }
    if (!byUser.has(userId)) byUser.set(userId, at);
    if (this.#waiting.has(messageId)) this.#check(messageId);
  }

  dialogUpdated(dialog: Dialog): void {
    this.framesReceived++;
    const operatorId = dialog.session?.operatorId;
    if (!operatorId) return;
    this.#holders.set(dialog.id, operatorId);
    for (const messageId of this.#waitingByDialog.get(dialog.id) ?? []) this.#check(messageId);
  }

  otherEvent(): void {
    this.framesReceived++;
  }

  holderOf(dialogId: string): string | undefined {
    return this.#holders.get(dialogId);
  }

  /** Resolves with the time the message reached its dialog's operator; rejects after `timeoutMs`. */
  arrivalAtHolder(messageId: string, dialogId: string, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#forget(messageId, dialogId);
        const holder = this.#holders.get(dialogId) ?? 'nobody (dialog not assigned)';
        reject(new Error(`message ${messageId} did not reach ${holder} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.set(messageId, { dialogId, resolve, reject, timer });
      let set = this.#waitingByDialog.get(dialogId);
      if (!set) {
        set = new Set();
        this.#waitingByDialog.set(dialogId, set);
      }
      set.add(messageId);
      this.#check(messageId);
    });
  }

  /** Rejects whatever is still waiting (used when the run is torn down). */
  abort(reason: string): void {
    for (const [messageId, waiter] of this.#waiting) {
      this.#forget(messageId, waiter.dialogId);
      waiter.reject(new Error(reason));
    }
  }

  #check(messageId: string): void {
    const waiter = this.#waiting.get(messageId);
    if (!waiter) return;
    const holder = this.#holders.get(waiter.dialogId);
    const at = holder ? this.#arrivals.get(messageId)?.get(holder) : undefined;
    if (at === undefined) return;
    this.#forget(messageId, waiter.dialogId);
    // Arrival data is no longer needed once matched; keep the maps small.
    this.#arrivals.delete(messageId);
    waiter.resolve(at);
  }

  #forget(messageId: string, dialogId: string): void {
    const waiter = this.#waiting.get(messageId);
    if (waiter) clearTimeout(waiter.timer);
    this.#waiting.delete(messageId);
    const set = this.#waitingByDialog.get(dialogId);
    set?.delete(messageId);
    if (set?.size === 0) this.#waitingByDialog.delete(dialogId);
  }
}
