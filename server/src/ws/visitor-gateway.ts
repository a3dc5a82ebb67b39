import type { Dialog, OpenlinesEvent, VisitorClientFrame, VisitorServerFrame } from '@openlines/contract';
import type { WebSocket } from 'ws';
import type { BusMessage, EventEnvelope } from '../bus/bus';
import type { AppContext } from '../context';
import type { InboundChannel } from '../services/channels';
import { canReplayFrom, dialogEventsAfter, dialogIdOf } from '../services/event-log';
import {
  findVisitor,
  visitorDialog,
  visitorMessageOf,
  visitorSeen,
  visitorSessionOf,
  visitorTyping,
  type WidgetVisitor,
  widgetStillServes,
} from '../services/widget-visitors';
import type { EventSequencer } from './sequencer';
import { replayPages, SocketConnection, SocketSet } from './socket-set';

/**
 * Close codes the widget acts on: 4401 "start a new conversation" (unknown token), 4404 "the widget
 * was disconnected", 4408 "reconnect and resume".
 */
export const VISITOR_CLOSE = { unauthorized: 4401, gone: 4404, slow: 4408 } as const;

const AUTH_TIMEOUT_MS = 10_000;
const MAX_BUFFERED_BYTES = 1024 * 1024;
const REPLAY_PAGE = 500;
/** Message events held while the visitor has no dialog yet: those of its first commit, at most. */
const EARLY_EVENTS = 50;
const TYPING_INTERVAL_MS = 400;

class VisitorConnection extends SocketConnection {
  readonly pending: BusMessage[] = [];
  dialogId: string | null = null;
  readonly early: EventEnvelope[] = [];
  sessionJson = '';
  lastTypingAt = 0;
  /** Frames are presented asynchronously; the chain keeps them in cursor order. */
  chain: Promise<void> = Promise.resolve();
  leave: (() => void) | null = null;

  constructor(
    socket: WebSocket,
    readonly channel: InboundChannel,
    readonly visitor: WidgetVisitor,
  ) {
    super(socket, { maxBufferedBytes: MAX_BUFFERED_BYTES, slowCloseCode: VISITOR_CLOSE.slow });
  }

  send(frame: VisitorServerFrame): void {
    this.sendText(JSON.stringify(frame));
  }

  owns(dialog: Dialog): boolean {
    return (
      dialog.channelId === this.channel.id &&
      dialog.client.identities.some(
        (identity) =>
          identity.channelId === this.channel.id && identity.externalId === this.visitor.external_id,
      )
    );
  }
}

/**
 * The visitors' realtime endpoint, built like the operators' gateway: one ordered, gapless stream
 * per account (EventSequencer), replay from the events table after `after=<cursor>`. A visitor gets
 * only the non-private messages and the session changes of their own dialog, presented for
 * visitors, and the operator's typing; nothing else of the account.
 *
 * The token comes in the first frame (`{ kind: "auth", token }`), never in the URL, so it stays out
 * of access logs.
 */
/** The visitor gateways of each server (one per widget edge), so metrics can count their sockets. */
const gateways = new WeakMap<AppContext, Set<VisitorGateway>>();

/** Widget visitors' sockets open on this process. */
export function visitorSocketCount(ctx: AppContext): number {
  let count = 0;
  for (const gateway of gateways.get(ctx) ?? []) count += gateway.connectionCount;
  return count;
}

export class VisitorGateway {
  readonly #connections: SocketSet<VisitorConnection>;
  readonly #sequencer: EventSequencer;

  constructor(
    private readonly ctx: AppContext,
    sequencer: EventSequencer,
    heartbeatMs = 30_000,
  ) {
    this.#sequencer = sequencer;
    this.#connections = new SocketSet(heartbeatMs);
    const set = gateways.get(ctx) ?? new Set<VisitorGateway>();
    set.add(this);
    gateways.set(ctx, set);
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Takes a socket whose channel and origin the route has checked; waits for the visitor's token. */
  accept(socket: WebSocket, channel: InboundChannel, after: number | null): void {
    let connection: VisitorConnection | null = null;
    let authenticating = false;
    const timer = setTimeout(
      () => socket.close(VISITOR_CLOSE.unauthorized, 'no auth frame'),
      AUTH_TIMEOUT_MS,
    );
    socket.on('message', (data) => {
      let frame: VisitorClientFrame;
      try {
        frame = JSON.parse(data.toString()) as VisitorClientFrame;
      } catch {
        socket.send(JSON.stringify({ kind: 'error', code: 'invalid_json', message: 'Frames must be JSON' }));
        return;
      }
      if (connection) {
        this.#onClientFrame(connection, frame);
        return;
      }
      if (authenticating) return;
      if (frame?.kind !== 'auth' || typeof frame.token !== 'string') {
        socket.close(VISITOR_CLOSE.unauthorized, 'send { kind: "auth", token } first');
        return;
      }
      authenticating = true;
      clearTimeout(timer);
      void findVisitor(this.ctx, channel, frame.token)
        .then(async (visitor) => {
          if (!visitor) {
            socket.close(VISITOR_CLOSE.unauthorized, 'unknown visitor');
            return;
          }
          connection = new VisitorConnection(socket, channel, visitor);
          await this.#start(connection, after);
        })
        .catch((error) => {
          this.ctx.log.error({ err: error }, 'visitor socket start failed');
          socket.close(1011, 'internal error');
        });
    });
    socket.on('close', () => clearTimeout(timer));
  }

  async #start(connection: VisitorConnection, after: number | null): Promise<void> {
    const { socket, channel, visitor } = connection;
    this.#connections.add(connection, () => connection.leave?.());
    const joined = await this.#sequencer.join(channel.account_id, (message) =>
      this.#onLive(connection, message),
    );
    connection.leave = joined.leave;
    if (socket.readyState !== socket.OPEN) {
      joined.leave();
      return;
    }
    // After joining: a dialog created from now on is recognised from its events.
    const dialog = await visitorDialog(this.ctx, channel, visitor.external_id);
    connection.dialogId = dialog?.id ?? null;
    connection.send({ kind: 'hello', cursor: joined.base });
    connection.lastCursor = after === null ? joined.base : Math.min(after, joined.base);
    if (after !== null && !(await canReplayFrom(this.ctx, channel.account_id, connection.lastCursor))) {
      connection.lastCursor = joined.base;
      connection.send({ kind: 'resync', cursor: joined.base });
    } else if (after !== null) await this.#replay(connection, joined.base);
    connection.replaying = false;
    for (const message of connection.pending.splice(0)) this.#onLive(connection, message);
  }

  async #replay(connection: VisitorConnection, upTo: number): Promise<void> {
    const dialogId = connection.dialogId;
    if (dialogId) {
      await replayPages(
        connection,
        upTo,
        (after) =>
          dialogEventsAfter(this.ctx, connection.channel.account_id, dialogId, after, upTo, REPLAY_PAGE),
        (envelope) => this.#handle(connection, envelope),
      );
    }
    connection.lastCursor = Math.max(connection.lastCursor, upTo);
    connection.send({ kind: 'replayed', cursor: connection.lastCursor });
  }

  #onLive(connection: VisitorConnection, message: BusMessage): void {
    if (connection.replaying) {
      connection.pending.push(message);
      return;
    }
    if (message.transient) {
      const signal = message.transient;
      if (
        signal.type === 'typing' &&
        (signal.data.author === 'operator' || signal.data.author === 'bot') &&
        connection.dialogId !== null &&
        signal.data.dialogId === connection.dialogId
      ) {
        connection.send({ kind: 'typing', typing: true });
      }
      return;
    }
    const envelope = message;
    if (
      envelope.event.type === 'channel.changed' &&
      envelope.event.data.channelId === connection.channel.id
    ) {
      void this.#checkChannel(connection);
      return;
    }
    connection.chain = connection.chain
      .then(() => this.#handle(connection, envelope))
      .catch((error) => this.ctx.log.warn({ err: error }, 'visitor event not delivered'));
  }

  async #handle(connection: VisitorConnection, envelope: EventEnvelope): Promise<void> {
    const { event } = envelope;
    if (event.cursor <= connection.lastCursor) return;
    connection.lastCursor = event.cursor;
    const dialogId = dialogIdOf(event);
    if (dialogId === null) return;
    if (connection.dialogId === null) {
      if (event.type !== 'dialog.updated') {
        connection.early.push(envelope);
        if (connection.early.length > EARLY_EVENTS) connection.early.shift();
        return;
      }
      if (!connection.owns(event.data.dialog)) return;
      // The visitor's first message made the dialog: its message events came just before this one.
      connection.dialogId = dialogId;
      for (const early of connection.early.splice(0)) {
        if (dialogIdOf(early.event) === dialogId) await this.#emit(connection, early.event);
      }
    }
    if (dialogId !== connection.dialogId) return;
    await this.#emit(connection, event);
  }

  async #emit(connection: VisitorConnection, event: OpenlinesEvent): Promise<void> {
    if (event.type === 'message.created' || event.type === 'message.updated') {
      const message = await visitorMessageOf(this.ctx, event.data.message);
      if (message) connection.send({ kind: 'message', cursor: event.cursor, message });
      return;
    }
    if (event.type === 'dialog.updated') {
      const session = await visitorSessionOf(this.ctx, event.data.dialog);
      const json = JSON.stringify(session);
      if (json === connection.sessionJson) return;
      connection.sessionJson = json;
      connection.send({ kind: 'session', cursor: event.cursor, session });
    }
  }

  /** A disconnected or deleted widget closes its visitors' sockets (LN-5). */
  async #checkChannel(connection: VisitorConnection): Promise<void> {
    const serves = await widgetStillServes(this.ctx, connection.channel).catch(() => false);
    if (!serves) {
      connection.socket.close(VISITOR_CLOSE.gone, 'the widget changed; start again');
    }
  }

  #onClientFrame(connection: VisitorConnection, frame: VisitorClientFrame): void {
    if (frame?.kind === 'ping') return;
    if (frame?.kind === 'typing') {
      const now = Date.now();
      if (now - connection.lastTypingAt < TYPING_INTERVAL_MS) return;
      connection.lastTypingAt = now;
      const text = typeof frame.text === 'string' ? frame.text : null;
      void visitorTyping(this.ctx, connection.channel, connection.visitor, text).catch((error) =>
        this.ctx.log.warn({ err: error }, 'visitor typing not sent'),
      );
      return;
    }
    if (frame?.kind === 'seen') {
      if (typeof frame.messageId !== 'string') {
        connection.send({ kind: 'error', code: 'validation_failed', message: 'messageId must be a string' });
        return;
      }
      void visitorSeen(this.ctx, connection.channel, connection.visitor, frame.messageId).catch((error) =>
        this.ctx.log.warn({ err: error }, 'visitor read receipt not recorded'),
      );
      return;
    }
    connection.send({ kind: 'error', code: 'validation_failed', message: 'Unknown frame kind' });
  }

  async close(): Promise<void> {
    gateways.get(this.ctx)?.delete(this);
    this.#connections.close();
  }
}
