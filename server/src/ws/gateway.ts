import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { ServerFrame } from '@openlines/contract';
import type { WebSocket } from 'ws';
import type { BusMessage, EventEnvelope } from '../bus/bus';
import type { AppContext } from '../context';
import type { Actor } from '../services/actor';
import { loadActor } from '../services/auth';
import { canReplayFrom, eventsAfter } from '../services/event-log';
import { connectionClosed, connectionOpened, connectionsSeen } from '../services/presence';
import { canReceive } from './audience';
import type { EventSequencer } from './sequencer';
import { replayPages, SocketConnection, SocketSet } from './socket-set';

/** Close codes clients act on: 4401 means "sign in again", 4408 "reconnect and resume". */
export const CLOSE_UNAUTHORIZED = 4401;
export const CLOSE_SLOW_CONSUMER = 4408;
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const REPLAY_PAGE = 500;

/** An event's frame is the same text for every socket it goes to: serialised once. */
const frames = new WeakMap<EventEnvelope, string>();

function eventFrame(envelope: EventEnvelope): string {
  let frame = frames.get(envelope);
  if (frame === undefined) {
    frame = JSON.stringify({ kind: 'event', event: envelope.event } satisfies ServerFrame);
    frames.set(envelope, frame);
  }
  return frame;
}

class Connection extends SocketConnection {
  presenceId: string | null = null;
  readonly pending: EventEnvelope[] = [];

  constructor(
    socket: WebSocket,
    public actor: Actor,
    stream: Duplex | null,
  ) {
    super(socket, { maxBufferedBytes: MAX_BUFFERED_BYTES, slowCloseCode: CLOSE_SLOW_CONSUMER }, stream);
  }

  send(frame: ServerFrame | string): void {
    this.sendText(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  deliver(envelope: EventEnvelope): void {
    if (envelope.event.cursor <= this.lastCursor) return;
    this.lastCursor = envelope.event.cursor;
    if (canReceive(this.actor, envelope.audience)) this.send(eventFrame(envelope));
  }
}

/**
 * The realtime endpoint: authenticated sockets get every event of their account they may see, in
 * cursor order, live or replayed from the events table after `after=<cursor>`.
 */
export class RealtimeGateway {
  readonly #connections: SocketSet<Connection>;
  readonly #sequencer: EventSequencer;
  /** Names this process in operator_connections, so another process can tell whose rows are whose. */
  readonly #nodeId = randomUUID();
  #closing = false;

  constructor(
    private readonly ctx: AppContext,
    sequencer: EventSequencer,
    heartbeatMs = 30_000,
  ) {
    this.#sequencer = sequencer;
    this.#connections = new SocketSet(heartbeatMs, (connections) => this.#refreshPresence(connections));
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  /** `stream`: the upgraded request's TCP socket (SocketConnection writes a turn's frames together). */
  async accept(
    socket: WebSocket,
    actor: Actor,
    after: number | null,
    stream: Duplex | null = null,
  ): Promise<void> {
    const connection = new Connection(socket, actor, stream);
    socket.on('message', (data) => this.#onClientFrame(connection, data.toString()));
    let leave: (() => void) | null = null;
    const presence = {
      id: randomUUID(),
      accountId: actor.accountId,
      userId: actor.userId,
      nodeId: this.#nodeId,
    };
    connection.presenceId = presence.id;
    const opened = connectionOpened(this.ctx, presence).catch((error) =>
      this.ctx.log.warn({ err: error }, 'recording the connection failed'),
    );
    this.#connections.add(connection, () => {
      leave?.();
      // On shutdown the operators reconnect elsewhere; the sweep clears rows nobody refreshes.
      if (this.#closing) return;
      void opened
        .then(() => connectionClosed(this.ctx, presence))
        .catch((error) => this.ctx.log.warn({ err: error }, 'recording the disconnection failed'));
    });
    const joined = await this.#sequencer.join(actor.accountId, (envelope) =>
      this.#onLive(connection, envelope),
    );
    leave = joined.leave;
    if (socket.readyState !== socket.OPEN) {
      leave();
      return;
    }
    connection.send({ kind: 'hello', cursor: joined.base, userId: actor.userId });
    connection.lastCursor = after === null ? joined.base : Math.min(after, joined.base);
    if (after !== null && !(await canReplayFrom(this.ctx, actor.accountId, connection.lastCursor))) {
      // What the client missed is no longer kept (nor is erased content ever replayed): reload.
      connection.lastCursor = joined.base;
      connection.send({ kind: 'resync', cursor: joined.base });
    } else if (after !== null) await this.#replay(connection, joined.base);
    connection.replaying = false;
    for (const envelope of connection.pending.splice(0)) connection.deliver(envelope);
  }

  async #replay(connection: Connection, upTo: number): Promise<void> {
    await replayPages(
      connection,
      upTo,
      (after) => eventsAfter(this.ctx, connection.actor.accountId, after, upTo, REPLAY_PAGE),
      (envelope) => connection.deliver(envelope),
    );
    connection.send({ kind: 'replayed', cursor: connection.lastCursor });
  }

  #onLive(connection: Connection, message: BusMessage): void {
    if (message.transient) {
      if (!connection.replaying && canReceive(connection.actor, message.audience)) {
        connection.send({ kind: 'transient', signal: message.transient });
      }
      return;
    }
    const envelope = message;
    if (connection.replaying) {
      connection.pending.push(envelope);
      return;
    }
    this.#applyAccessChanges(connection, envelope);
    connection.deliver(envelope);
  }

  /** A deactivated user is disconnected at once; a changed role or user refreshes what they may see. */
  #applyAccessChanges(connection: Connection, envelope: EventEnvelope): void {
    const { event } = envelope;
    const self = connection.actor.userId;
    if (event.type === 'user.deactivated' && event.data.userId === self) {
      connection.socket.close(CLOSE_UNAUTHORIZED, 'deactivated');
      return;
    }
    if (event.type === 'account.suspended') {
      connection.socket.close(CLOSE_UNAUTHORIZED, 'account suspended');
      return;
    }
    const affected =
      (event.type === 'user.updated' && event.data.user.id === self) ||
      (event.type === 'role.changed' && event.data.roleId === connection.actor.roleId);
    if (affected) {
      void loadActor(this.ctx, self, connection.actor.via).then((actor) => {
        if (actor) connection.actor = actor;
        else connection.socket.close(CLOSE_UNAUTHORIZED, 'signed out');
      });
    }
  }

  #onClientFrame(connection: Connection, raw: string): void {
    let frame: { kind?: unknown };
    try {
      frame = JSON.parse(raw) as { kind?: unknown };
    } catch {
      connection.send({ kind: 'error', code: 'invalid_json', message: 'Frames must be JSON' });
      return;
    }
    if (frame.kind === 'ping') return;
    connection.send({ kind: 'error', code: 'validation_failed', message: 'Unknown frame kind' });
  }

  #refreshPresence(connections: Connection[]): void {
    const seen = connections.map((c) => c.presenceId).filter((id): id is string => id !== null);
    void connectionsSeen(this.ctx, seen).catch((error) =>
      this.ctx.log.warn({ err: error }, 'heartbeat failed'),
    );
  }

  /** Sign-out of a user everywhere (used when their sessions are ended on this process). */
  disconnectUser(userId: string): void {
    for (const connection of this.#connections) {
      if (connection.actor.userId === userId) connection.socket.close(CLOSE_UNAUTHORIZED, 'signed out');
    }
  }

  async close(): Promise<void> {
    this.#closing = true;
    this.#connections.close();
  }
}
