import type {
  Attachment,
  ConsentRecord,
  Dialog,
  DialogActivity,
  EventType,
  Line,
  Me,
  Message,
  MessageTemplateRef,
  OpenlinesEvent,
  QuickAnswer,
  SessionTransition,
  TransientSignal,
  User,
} from '@openlines/contract';
import { type OpenlinesClient, OpenlinesError, type Realtime } from '@openlines/sdk';
import {
  type DialogFilters,
  type DialogView,
  inView,
  isMine,
  isWaitingForMe,
  matchesFilters,
} from '../lib/dialogs';
import { mergeMessages, type PendingMessage } from '../lib/messages';

export type ConnectionState = 'connecting' | 'online' | 'reconnecting' | 'offline';

export interface DialogHistory {
  messages: Message[];
  transitions: SessionTransition[];
  /** The client's consent decisions on the dialog's line (AG-2), shown in the timeline. */
  consents: ConsentRecord[];
  loading: boolean;
  /** No older messages on the server. */
  complete: boolean;
  error: unknown;
}

export interface WorkspaceState {
  connection: ConnectionState;
  users: Record<string, User>;
  lines: Line[];
  dialogs: Record<string, Dialog>;
  view: DialogView;
  filters: DialogFilters;
  /** Where the server's next page of the current list starts; null when it has no more. */
  listCursor: string | null;
  listLoading: boolean;
  listError: unknown;
  openId: string | null;
  history: Record<string, DialogHistory>;
  pending: Record<string, PendingMessage[]>;
  unread: Record<string, number>;
  typing: Record<string, { text: string | null; at: number }>;
  quickAnswers: QuickAnswer[];
  /** In-app notices from the server (missed KPI targets, unanswered clients), newest last. */
  notices: Notice[];
}

export interface Notice {
  id: number;
  text: string;
  /** Where the notice leads: its dialog, or the screen of what it is about. */
  href: string;
  /**
   * A notice the UI words itself (a paused webhook, a mention in a note); `text` then holds what it
   * is about (the webhook's URL, the colleague's name).
   */
  kind?: 'webhook_paused' | 'mention';
}

/** What the store tells the UI about, so it can chime and show browser notifications. */
export type Alert =
  | { kind: 'dialog'; dialog: Dialog }
  | { kind: 'message'; dialog: Dialog | undefined; message: Message }
  | { kind: 'notice'; notice: Notice };

export interface StoreOptions {
  onAlert?: (alert: Alert) => void;
  /** The server ended the session (401/4401): the app goes back to the sign-in screen. */
  onSignedOut?: () => void;
  /** Tells whether the page is in front (tests pass their own). */
  isVisible?: () => boolean;
}

/** One handler per realtime event type, each taking the event of its own type. */
type EventHandlers = { [T in EventType]: (event: Extract<OpenlinesEvent, { type: T }>) => void };

/** For events the workspace has no use for; named in the handler map so the choice is visible. */
const ignore = (): void => undefined;

const HISTORY_PAGE = 100;
const LIST_PAGE = 50;
const TYPING_TTL_MS = 8000;

function emptyHistory(): DialogHistory {
  return { messages: [], transitions: [], consents: [], loading: true, complete: false, error: null };
}

/** The server says the dialog is not there for me: deleted, or out of my sight. */
function isGone(error: unknown): boolean {
  return error instanceof OpenlinesError && error.code === 'not_found';
}

/** What the screen of a dialog that went while it was open shows (as the server would answer). */
const GONE = new OpenlinesError({
  type: 'about:blank',
  title: 'The dialog is no longer available',
  status: 404,
  code: 'not_found',
});

function dialogLine(dialog: Dialog): string {
  return dialog.session?.lineId ?? dialog.lineId;
}

/** A client message id that works outside secure contexts too (crypto.randomUUID needs https). */
export function newClientMessageId(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return `web-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * The operator workspace's live state: dialogs, their histories, colleagues and their presence,
 * fed by REST reads and the realtime stream. The SDK's Realtime resumes by cursor after a network
 * loss; after every resume the store also re-reads what is on screen and merges it by id, so nothing
 * is duplicated and nothing is missed.
 */
export class WorkspaceStore {
  #state: WorkspaceState;
  readonly #listeners = new Set<() => void>();
  readonly #client: OpenlinesClient;
  #me: Me;
  readonly #options: StoreOptions;
  #realtime: Realtime | null = null;
  /** The last event seen by a socket that is gone: the next one resumes after it. */
  #cursor: number | null = null;
  #unsubscribe: (() => void)[] = [];
  #listRequest = 0;
  #typingTimer: ReturnType<typeof setInterval> | null = null;
  #transitionsTimer: ReturnType<typeof setTimeout> | null = null;
  #stopped = false;
  readonly #onOnline = () => this.networkChanged(true);
  readonly #onOffline = () => this.networkChanged(false);

  constructor(client: OpenlinesClient, me: Me, options: StoreOptions = {}) {
    this.#client = client;
    this.#me = me;
    this.#options = options;
    this.#state = {
      connection: 'connecting',
      users: { [me.user.id]: me.user },
      lines: [],
      dialogs: {},
      view: 'mine',
      filters: {},
      listCursor: null,
      listLoading: true,
      listError: null,
      openId: null,
      history: {},
      pending: {},
      unread: {},
      typing: {},
      quickAnswers: [],
      notices: [],
    };
  }

  get me(): Me {
    return this.#me;
  }

  getState = (): WorkspaceState => this.#state;

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  readonly #eventListeners = new Set<(event: OpenlinesEvent) => void>();

  /** Every realtime event as it arrives, after the store applied it (the live board listens). */
  onEvent = (listener: (event: OpenlinesEvent) => void): (() => void) => {
    this.#eventListeners.add(listener);
    return () => this.#eventListeners.delete(listener);
  };

  #set(patch: Partial<WorkspaceState>): void {
    this.#state = { ...this.#state, ...patch };
    for (const listener of this.#listeners) listener();
  }

  // ----- lifecycle ------------------------------------------------------------------------------

  /** Opens the live stream first (so nothing happening meanwhile is lost), then reads the lists. */
  async start(): Promise<void> {
    // React may stop and start the same store again (StrictMode, a remount): start resumes.
    this.#stopped = false;
    this.#connect(this.#cursor);
    globalThis.window?.addEventListener('online', this.#onOnline);
    globalThis.window?.addEventListener('offline', this.#onOffline);
    this.#typingTimer = setInterval(() => this.#expireTyping(), 1000);
    await Promise.all([
      this.refreshUsers(),
      this.refreshLines(),
      this.refreshQuickAnswers(),
      this.#prefetchCounts(),
      this.reloadList(),
    ]);
  }

  stop(): void {
    this.#stopped = true;
    globalThis.window?.removeEventListener('online', this.#onOnline);
    globalThis.window?.removeEventListener('offline', this.#onOffline);
    if (this.#typingTimer) clearInterval(this.#typingTimer);
    if (this.#transitionsTimer) clearTimeout(this.#transitionsTimer);
    const cursor = this.#closeRealtime();
    if (cursor !== null) this.#cursor = cursor;
  }

  #connect(after: number | null): void {
    if (this.#stopped) return;
    const realtime = this.#client.realtime({
      ...(after === null ? {} : { after }),
      reconnect: { initialDelayMs: 500, maxDelayMs: 10_000 },
    });
    this.#realtime = realtime;
    this.#unsubscribe = [
      realtime.on('open', () => this.#set({ connection: 'online' })),
      realtime.on('event', (event) => this.#onEvent(event)),
      realtime.on('transient', (signal) => this.#onTransient(signal)),
      realtime.on('replayed', () => void this.resync()),
      // The server no longer keeps what was missed (docs/privacy.md): reload the lists.
      realtime.on('resync', () => void this.resync()),
      realtime.on('close', ({ reconnecting, code }) => {
        if (this.#realtime !== realtime) return;
        if (reconnecting) this.#set({ connection: 'reconnecting' });
        else if (code === 4401) this.#options.onSignedOut?.();
        else this.#set({ connection: 'offline' });
      }),
    ];
  }

  #closeRealtime(): number | null {
    const realtime = this.#realtime;
    if (!realtime) return null;
    for (const off of this.#unsubscribe) off();
    this.#unsubscribe = [];
    this.#realtime = null;
    realtime.close();
    return realtime.cursor;
  }

  /** The browser's online/offline events. */
  networkChanged(online: boolean): void {
    if (online) this.#reconnectNow();
    else this.#dropConnection();
  }

  /** The browser says the network is gone: close the socket now rather than wait for TCP to notice. */
  #dropConnection(): void {
    const cursor = this.#closeRealtime();
    if (cursor !== null) this.#cursor = cursor;
    this.#set({ connection: 'offline' });
  }

  /** Back online: a new socket that resumes after the last event seen, then a re-read of the screen. */
  #reconnectNow(): void {
    if (this.#realtime?.connected) return;
    const cursor = this.#closeRealtime() ?? this.#cursor;
    this.#set({ connection: 'reconnecting' });
    this.#connect(cursor);
  }

  /** After a resume: re-read the list and the open dialog; merging by id keeps each message once. */
  async resync(): Promise<void> {
    const openId = this.#state.openId;
    await Promise.all([
      this.reloadList(),
      this.refreshUsers(),
      openId ? this.#refreshHistory(openId) : Promise.resolve(),
    ]);
  }

  // ----- reference data -------------------------------------------------------------------------

  async refreshUsers(): Promise<void> {
    const users = await this.#client.users.list();
    this.#set({ users: Object.fromEntries(users.map((u) => [u.id, u])) });
  }

  async refreshLines(): Promise<void> {
    const { items } = await this.#client.lines.list();
    this.#set({ lines: items });
  }

  async refreshQuickAnswers(): Promise<void> {
    this.#set({ quickAnswers: await this.#client.quickAnswers.list() });
  }

  /** The queue and my dialogs, so the tab counters are right from the start. */
  async #prefetchCounts(): Promise<void> {
    const [queue, mine] = await Promise.all([
      this.#client.dialogs.list({ view: 'queue', limit: 200 }),
      this.#client.dialogs.list({ view: 'mine', limit: 200 }),
    ]);
    this.#putDialogs([...queue.items, ...mine.items]);
  }

  /**
   * A dialog from an event carries no search hit; while the list is searched, the hit the server
   * found for it stays (a list load brings its own hits, or none once the search is cleared).
   */
  #putDialogs(dialogs: Dialog[], options: { keepSearchHits?: boolean } = {}): void {
    if (dialogs.length === 0) return;
    const next = { ...this.#state.dialogs };
    const searching = options.keepSearchHits && Boolean(this.#state.filters.search);
    for (const dialog of dialogs) {
      const hit = next[dialog.id]?.searchHit;
      next[dialog.id] = searching && hit && !dialog.searchHit ? { ...dialog, searchHit: hit } : dialog;
    }
    this.#set({ dialogs: next });
  }

  // ----- the list ---------------------------------------------------------------------------------

  setView(view: DialogView): void {
    if (view === this.#state.view) return;
    this.#set({ view });
    void this.reloadList();
  }

  setFilters(filters: DialogFilters): void {
    this.#set({ filters });
    void this.reloadList();
  }

  async reloadList(more = false): Promise<void> {
    const request = ++this.#listRequest;
    const { view, filters } = this.#state;
    this.#set({ listLoading: true, listError: null });
    const cursor = more ? this.#state.listCursor : null;
    try {
      const page = await this.#client.dialogs.list({
        view,
        ...filters,
        ...(filters.search ? { search: filters.search } : {}),
        limit: LIST_PAGE,
        ...(cursor ? { cursor } : {}),
      });
      if (request !== this.#listRequest) return;
      this.#putDialogs(page.items);
      this.#set({ listCursor: page.nextCursor, listLoading: false });
    } catch (error) {
      if (request !== this.#listRequest) return;
      this.#set({ listLoading: false, listError: error });
    }
  }

  /** The dialogs of the current view and filters, newest activity first. */
  visibleDialogs(state: Pick<WorkspaceState, 'dialogs' | 'view' | 'filters'> = this.#state): Dialog[] {
    const me = this.#me.user.id;
    return Object.values(state.dialogs)
      .filter((dialog) => inView(dialog, state.view, me) && matchesFilters(dialog, state.filters))
      .sort((a, b) => {
        const at = a.lastMessageAt ?? a.createdAt;
        const bt = b.lastMessageAt ?? b.createdAt;
        return at === bt ? a.id.localeCompare(b.id) : at < bt ? 1 : -1;
      });
  }

  counts(state: Pick<WorkspaceState, 'dialogs'> = this.#state): { queue: number; mine: number } {
    const me = this.#me.user.id;
    let queue = 0;
    let mine = 0;
    for (const dialog of Object.values(state.dialogs)) {
      if (inView(dialog, 'queue', me)) queue++;
      if (isMine(dialog, me)) mine++;
    }
    return { queue, mine };
  }

  // ----- one dialog -------------------------------------------------------------------------------

  async open(dialogId: string | null): Promise<void> {
    if (dialogId === this.#state.openId) return;
    const unread = { ...this.#state.unread };
    if (dialogId) delete unread[dialogId];
    this.#set({ openId: dialogId, unread });
    if (!dialogId) return;
    if (!this.#state.dialogs[dialogId]) {
      try {
        this.#putDialogs([await this.#client.dialogs.get(dialogId)]);
      } catch (error) {
        this.#setHistory(dialogId, { ...emptyHistory(), loading: false, error });
        return;
      }
    }
    await this.#refreshHistory(dialogId);
  }

  /** The page came back to the front: the open dialog's messages are read now. */
  markRead(): void {
    const openId = this.#state.openId;
    if (openId && this.#state.unread[openId]) {
      const unread = { ...this.#state.unread };
      delete unread[openId];
      this.#set({ unread });
    }
  }

  #setHistory(dialogId: string, history: DialogHistory): void {
    this.#set({ history: { ...this.#state.history, [dialogId]: history } });
  }

  async #refreshHistory(dialogId: string): Promise<void> {
    const current = this.#state.history[dialogId] ?? emptyHistory();
    this.#setHistory(dialogId, { ...current, loading: true, error: null });
    try {
      const [messages, transitions, consents, dialog] = await Promise.all([
        this.#client.dialogs.messages(dialogId, { limit: HISTORY_PAGE }),
        this.#client.dialogs.transitions(dialogId),
        this.#client.dialogs.consents(dialogId),
        this.#client.dialogs.get(dialogId),
      ]);
      this.#putDialogs([dialog]);
      const latest = this.#state.history[dialogId] ?? current;
      this.#setHistory(dialogId, {
        messages: mergeMessages(latest.messages, messages),
        transitions,
        consents,
        loading: false,
        complete: latest.complete || messages.length < HISTORY_PAGE,
        error: null,
      });
    } catch (error) {
      // Gone, or no longer mine to see: the list stops showing it as well.
      if (isGone(error)) this.#dropDialog(dialogId);
      const latest = this.#state.history[dialogId] ?? current;
      this.#setHistory(dialogId, { ...latest, loading: false, error });
    }
  }

  /** Older messages, across earlier sessions of the dialog. */
  async loadEarlier(dialogId: string): Promise<void> {
    const current = this.#state.history[dialogId];
    const oldest = current?.messages[0];
    if (!current || !oldest || current.complete) return;
    this.#setHistory(dialogId, { ...current, loading: true });
    try {
      const older = await this.#client.dialogs.messages(dialogId, {
        before: oldest.createdAt,
        limit: HISTORY_PAGE,
      });
      const latest = this.#state.history[dialogId] ?? current;
      this.#setHistory(dialogId, {
        ...latest,
        messages: mergeMessages(older, latest.messages),
        loading: false,
        complete: older.length < HISTORY_PAGE,
      });
    } catch (error) {
      const latest = this.#state.history[dialogId] ?? current;
      this.#setHistory(dialogId, { ...latest, loading: false, error });
    }
  }

  #refreshTransitionsSoon(dialogId: string): void {
    if (this.#transitionsTimer) clearTimeout(this.#transitionsTimer);
    this.#transitionsTimer = setTimeout(() => {
      Promise.all([this.#client.dialogs.transitions(dialogId), this.#client.dialogs.consents(dialogId)]).then(
        ([transitions, consents]) => {
          const history = this.#state.history[dialogId];
          if (history) this.#setHistory(dialogId, { ...history, transitions, consents });
        },
        () => undefined,
      );
    }, 150);
  }

  #mergeIntoHistory(dialogId: string, messages: Message[]): void {
    const history = this.#state.history[dialogId];
    if (!history) return;
    this.#setHistory(dialogId, { ...history, messages: mergeMessages(history.messages, messages) });
  }

  /**
   * Forgets a dialog that is gone or out of my sight (deleted, taken from a queue I may not read
   * otherwise): out of every list and counter. The open dialog's history stays, so its screen can
   * say why it went.
   */
  #dropDialog(dialogId: string): void {
    if (!this.#state.dialogs[dialogId] && !this.#state.unread[dialogId]) return;
    const dialogs = { ...this.#state.dialogs };
    delete dialogs[dialogId];
    const unread = { ...this.#state.unread };
    delete unread[dialogId];
    const patch: Partial<WorkspaceState> = { dialogs, unread };
    // The dialog on screen went: it says so rather than wait for it.
    const history = this.#state.history[dialogId];
    if (this.#state.openId === dialogId && !history?.error) {
      patch.history = {
        ...this.#state.history,
        [dialogId]: { ...(history ?? emptyHistory()), loading: false, error: GONE },
      };
    }
    this.#set(patch);
  }

  /**
   * A dialog that left what I see anyway (I neither hold it nor may take it) may have left my sight
   * altogether: unless I see every dialog, it is read again, and dropped when the server says it is
   * not mine to see. (Who reads it by their own history keeps it, with its new state.)
   */
  #recheckVisibility(dialog: Dialog): void {
    const me = this.#me.user.id;
    if (this.#me.permissions.dialogHistory === 'all') return;
    if (isMine(dialog, me) || isWaitingForMe(dialog, me)) return;
    this.#client.dialogs.get(dialog.id).then(
      (fresh) => {
        if (this.#state.dialogs[fresh.id]) this.#putDialogs([fresh], { keepSearchHits: true });
      },
      (error) => {
        if (isGone(error)) this.#dropDialog(dialog.id);
      },
    );
  }

  /** Applies the result of an action (take, transfer…) at once, before its event arrives. */
  applyDialog(dialog: Dialog): void {
    this.#putDialogs([dialog]);
    if (this.#state.openId === dialog.id) this.#refreshTransitionsSoon(dialog.id);
  }

  // ----- sending ---------------------------------------------------------------------------------

  async send(
    dialogId: string,
    input: {
      text?: string;
      attachments?: Attachment[];
      private?: boolean;
      template?: MessageTemplateRef;
      /** A private note's mentioned colleagues (user ids). */
      mentions?: string[];
    },
    clientMessageId = newClientMessageId(),
  ): Promise<void> {
    const pending: PendingMessage = {
      clientMessageId,
      text: input.text ?? null,
      private: input.private === true,
      createdAt: new Date().toISOString(),
      error: null,
    };
    this.#setPending(dialogId, [
      ...(this.#state.pending[dialogId] ?? []).filter((p) => p.clientMessageId !== clientMessageId),
      pending,
    ]);
    try {
      const message = await this.#client.dialogs.send(dialogId, {
        ...(input.text ? { text: input.text } : {}),
        ...(input.attachments?.length ? { attachments: input.attachments } : {}),
        ...(input.private ? { private: true } : {}),
        ...(input.private && input.mentions?.length ? { mentions: input.mentions } : {}),
        ...(input.template ? { template: input.template } : {}),
        clientMessageId,
      });
      this.#mergeIntoHistory(dialogId, [message]);
      this.#setPending(
        dialogId,
        (this.#state.pending[dialogId] ?? []).filter((p) => p.clientMessageId !== clientMessageId),
      );
      if (this.#state.openId === dialogId) this.#refreshTransitionsSoon(dialogId);
    } catch (error) {
      this.#setPending(
        dialogId,
        (this.#state.pending[dialogId] ?? []).map((p) =>
          p.clientMessageId === clientMessageId
            ? { ...p, error: error instanceof Error ? error.message : String(error) }
            : p,
        ),
      );
      throw error;
    }
  }

  /** Edits my own message; the answer is shown at once, its event confirms it to everyone else. */
  async editMessage(dialogId: string, messageId: string, text: string): Promise<void> {
    this.#mergeIntoHistory(dialogId, [await this.#client.dialogs.editMessage(dialogId, messageId, text)]);
  }

  /** Deletes my own message (it stays in the timeline as deleted). */
  async deleteMessage(dialogId: string, messageId: string): Promise<void> {
    this.#mergeIntoHistory(dialogId, [await this.#client.dialogs.deleteMessage(dialogId, messageId)]);
  }

  dismissNotice(id: number): void {
    this.#set({ notices: this.#state.notices.filter((notice) => notice.id !== id) });
  }

  discardPending(dialogId: string, clientMessageId: string): void {
    this.#setPending(
      dialogId,
      (this.#state.pending[dialogId] ?? []).filter((p) => p.clientMessageId !== clientMessageId),
    );
  }

  #setPending(dialogId: string, list: PendingMessage[]): void {
    this.#set({ pending: { ...this.#state.pending, [dialogId]: list } });
  }

  #lastTypingSent = 0;

  /** Tells the client that the operator is typing, at most every 3 seconds. */
  typing(dialogId: string, text: string): void {
    const now = Date.now();
    if (now - this.#lastTypingSent < 3000) return;
    this.#lastTypingSent = now;
    this.#client.dialogs.typing(dialogId, text.slice(0, 2000)).catch(() => undefined);
  }

  // ----- events ----------------------------------------------------------------------------------

  /**
   * What the workspace does with each realtime event. A type added to the contract's union without
   * an entry here is a compile error, not an event the store silently drops.
   */
  readonly #eventHandlers: EventHandlers = {
    'dialog.updated': (event) => this.#onDialog(event.data.dialog),
    'dialog.deleted': (event) => this.#dropDialog(event.data.dialogId),
    'message.created': (event) => {
      if (event.data.activity) this.#onActivity(event.data.message.dialogId, event.data.activity);
      this.#onMessage(event.data.message, true);
    },
    'message.updated': (event) => this.#onMessage(event.data.message, false),
    'presence.changed': (event) => {
      const user = this.#state.users[event.data.userId];
      if (user)
        this.#set({ users: { ...this.#state.users, [user.id]: { ...user, presence: event.data.presence } } });
    },
    'user.created': (event) => this.#putUser(event.data.user),
    'user.updated': (event) => this.#putUser(event.data.user),
    'user.deactivated': (event) => {
      const user = this.#state.users[event.data.userId];
      if (user) this.#putUser({ ...user, active: false });
    },
    // A deleted line takes its dialogs with it (their events are not sent one by one).
    'line.changed': (event) => {
      if (event.data.deleted) this.#dropDialogsWhere((dialog) => dialogLine(dialog) === event.data.lineId);
      void this.refreshLines().catch(() => undefined);
    },
    // The server closes the socket right after; the next request answers account_suspended.
    'account.suspended': () => undefined,
    'quick_answer.changed': () => void this.refreshQuickAnswers().catch(() => undefined),
    notification: (event) => {
      const notice = { id: event.cursor, text: event.data.text, href: `/dialogs/${event.data.dialogId}` };
      this.#set({ notices: [...this.#state.notices, notice].slice(-5) });
      this.#options.onAlert?.({ kind: 'notice', notice });
    },
    // A colleague mentioned me in a note: a notice that leads to the dialog.
    'note.mentioned': (event) => {
      const notice: Notice = {
        id: event.cursor,
        text: this.#state.users[event.data.authorId]?.name ?? '—',
        href: `/dialogs/${event.data.dialogId}`,
        kind: 'mention',
      };
      this.#set({ notices: [...this.#state.notices, notice].slice(-5) });
      this.#options.onAlert?.({ kind: 'notice', notice });
    },
    // The workspace shows no departments or roles; the admin screens read them when opened.
    // (The operator's own departments and permissions come from /me at sign-in and are not re-read
    // on these events.)
    'department.changed': ignore,
    'role.changed': ignore,
    'channel.changed': (event) => {
      if (event.data.deleted) this.#dropDialogsWhere((dialog) => dialog.channelId === event.data.channelId);
    },
    // The workspace has no CRM screens yet: the client card does not show CRM records.
    'crm.record.created': ignore,
    'crm.record.updated': ignore,
    'crm.record.deleted': ignore,
    'crm.stage.changed': ignore,
    'crm.session.attached': ignore,
    'crm.record.converted': ignore,
    // Webhooks (docs/webhooks.md): one that kept failing and was paused is an alert for whoever
    // manages integrations (the only users the server sends the event to).
    'webhook.changed': (event) => {
      if (!event.data.paused) return;
      const notice: Notice = {
        id: event.cursor,
        text: event.data.paused.url,
        href: '/admin/webhooks',
        kind: 'webhook_paused',
      };
      this.#set({ notices: [...this.#state.notices, notice].slice(-5) });
      this.#options.onAlert?.({ kind: 'notice', notice });
    },
  };

  #onEvent(event: OpenlinesEvent): void {
    // The map is keyed by event type, so the handler found takes this very event.
    (this.#eventHandlers[event.type] as (event: OpenlinesEvent) => void)(event);
    for (const listener of this.#eventListeners) listener(event);
  }

  #putUser(user: User): void {
    this.#set({ users: { ...this.#state.users, [user.id]: user } });
  }

  #lineWantsMe(lineId: string): boolean {
    const line = this.#state.lines.find((l) => l.id === lineId);
    if (!line) return false;
    const me = this.#me.user;
    return line.settings.queue.members.some(
      (member) =>
        (member.type === 'user' && member.id === me.id) ||
        (member.type === 'department' && me.departmentIds.includes(member.id)),
    );
  }

  #dropDialogsWhere(gone: (dialog: Dialog) => boolean): void {
    for (const dialog of Object.values(this.#state.dialogs)) if (gone(dialog)) this.#dropDialog(dialog.id);
  }

  #onDialog(dialog: Dialog): void {
    const me = this.#me.user.id;
    const before = this.#state.dialogs[dialog.id];
    this.#putDialogs([dialog], { keepSearchHits: true });
    this.#recheckVisibility(dialog);
    const sameSession = before?.session?.id === dialog.session?.id;
    const wasWaiting = Boolean(before && sameSession && isWaitingForMe(before, me));
    const wasMine = Boolean(before && sameSession && isMine(before, me));
    const lineId = dialog.session?.lineId ?? dialog.lineId;
    // New in my queue (offered to me, or waiting on a line I answer for), or given to me by someone
    // else (routing, a transfer, an invitation) — not what I took from my own queue.
    const newlyWaiting =
      isWaitingForMe(dialog, me) &&
      !wasWaiting &&
      (dialog.session?.offeredTo.includes(me) === true || this.#lineWantsMe(lineId));
    const newlyMine = isMine(dialog, me) && !wasMine && !wasWaiting;
    if (newlyWaiting || newlyMine) this.#options.onAlert?.({ kind: 'dialog', dialog });
    if (this.#state.openId === dialog.id) this.#refreshTransitionsSoon(dialog.id);
  }

  /**
   * A message that changed only the dialog's activity (preview, time, session state) carries it
   * instead of a separate dialog.updated; a dialog not loaded here yet is fetched whole.
   */
  #onActivity(dialogId: string, activity: DialogActivity): void {
    const known = this.#state.dialogs[dialogId];
    if (!known) {
      this.#client.dialogs.get(dialogId).then(
        (dialog) => this.#onDialog(dialog),
        () => undefined,
      );
      return;
    }
    this.#onDialog({ ...known, ...activity });
  }

  #onMessage(message: Message, created: boolean): void {
    this.#mergeIntoHistory(message.dialogId, [message]);
    if (!created || message.authorKind !== 'client') return;
    const dialog = this.#state.dialogs[message.dialogId];
    const looking =
      this.#state.openId === message.dialogId &&
      (this.#options.isVisible?.() ?? document.visibilityState === 'visible');
    // Only what changes is replaced: a slice left as it was wakes none of its components.
    const patch: Partial<WorkspaceState> = {};
    if (this.#state.typing[message.dialogId]) {
      const typing = { ...this.#state.typing };
      delete typing[message.dialogId];
      patch.typing = typing;
    }
    if (!looking) {
      patch.unread = {
        ...this.#state.unread,
        [message.dialogId]: (this.#state.unread[message.dialogId] ?? 0) + 1,
      };
    }
    if (patch.typing || patch.unread) this.#set(patch);
    const me = this.#me.user.id;
    if (!looking && dialog && (isMine(dialog, me) || isWaitingForMe(dialog, me))) {
      this.#options.onAlert?.({ kind: 'message', dialog, message });
    }
  }

  #onTransient(signal: TransientSignal): void {
    if (signal.type !== 'typing' || signal.data.author !== 'client') return;
    this.#set({
      typing: { ...this.#state.typing, [signal.data.dialogId]: { text: signal.data.text, at: Date.now() } },
    });
  }

  #expireTyping(): void {
    const now = Date.now();
    const entries = Object.entries(this.#state.typing);
    const alive = entries.filter(([, value]) => now - value.at < TYPING_TTL_MS);
    if (alive.length !== entries.length) this.#set({ typing: Object.fromEntries(alive) });
  }
}
