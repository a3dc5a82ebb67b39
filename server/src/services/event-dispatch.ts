import type { EventType } from '@openlines/contract';
import { type BusMessage, type EventEnvelope, ListenerSet, type TransientEnvelope } from '../bus/bus';
import type { AppContext } from '../context';

/**
 * What reacts in this process to committed events, after their transaction commits: the events
 * come over the bus (from this process or another), and one dispatcher hands each to the listeners
 * its type is routed to below. Event webhooks and analytics plug in here as new listener names.
 */
export type ListenerName =
  /** The sockets (ws/sequencer): every event, in cursor order, to the users in its audience. */
  | 'realtime'
  /**
   * The outbox worker: a pending outgoing message, an edit or deletion of a sent one, or a session
   * start or end a channel hears (services/dialog-lifecycle) is sent at once, not at the next poll.
   */
  | 'outboxWake'
  /** The inbound channel cache (services/channels): a changed channel is read again. */
  | 'channelCache'
  /** The Telegram worker: a changed channel's webhook or polling is set up again. */
  | 'telegramSync'
  /** The event webhook feeder (workers/webhooks): committed events are turned into deliveries. */
  | 'webhooks'
  /**
   * The timer and bot-delivery workers: a committed change of a session or message may have armed a
   * timer or queued a bot event, so an idle worker looks again within WORKER_POLL_MS.
   */
  | 'workNudge';

/**
 * Which listeners hear each event type. A Record over the contract's event types: an event type
 * added to the contract and not routed here is a compile error, not a silent drop.
 */
export const EVENT_ROUTES: Readonly<Record<EventType, readonly ListenerName[]>> = {
  'user.created': ['realtime'],
  'user.updated': ['realtime'],
  'user.deactivated': ['realtime'],
  'presence.changed': ['realtime'],
  'department.changed': ['realtime'],
  'role.changed': ['realtime'],
  'line.changed': ['realtime', 'workNudge'],
  'channel.changed': ['realtime', 'channelCache', 'telegramSync', 'webhooks', 'outboxWake'],
  'account.suspended': ['realtime'],
  'dialog.updated': ['realtime', 'outboxWake', 'webhooks', 'workNudge'],
  'dialog.deleted': ['realtime'],
  'message.created': ['realtime', 'outboxWake', 'webhooks', 'workNudge'],
  'message.updated': ['realtime', 'outboxWake', 'webhooks'],
  'quick_answer.changed': ['realtime'],
  'note.mentioned': ['realtime'],
  notification: ['realtime'],
  'crm.record.created': ['realtime', 'webhooks'],
  'crm.record.updated': ['realtime', 'webhooks'],
  'crm.record.deleted': ['realtime', 'webhooks'],
  'crm.stage.changed': ['realtime', 'webhooks'],
  'crm.session.attached': ['realtime'],
  'crm.record.converted': ['realtime', 'webhooks'],
  'webhook.changed': ['realtime', 'webhooks'],
};

type EventListener = (envelope: EventEnvelope) => void;
type TransientListener = (envelope: TransientEnvelope) => void;

export class EventDispatcher {
  readonly #listeners = new Map<ListenerName, ListenerSet<EventEnvelope>>();
  /** Signals with no row (typing) go to the sockets only. */
  readonly #transient = new ListenerSet<TransientEnvelope>();

  constructor(subscribe: (listener: (message: BusMessage) => void) => () => void) {
    subscribe((message) => this.dispatch(message));
  }

  /** Listens as `name` to the event types routed to it; returns how to stop. */
  on(name: ListenerName, listener: EventListener): () => void {
    let set = this.#listeners.get(name);
    if (!set) {
      set = new ListenerSet<EventEnvelope>();
      this.#listeners.set(name, set);
    }
    return set.add(listener);
  }

  onTransient(listener: TransientListener): () => void {
    return this.#transient.add(listener);
  }

  dispatch(message: BusMessage): void {
    if (message.transient) {
      this.#transient.dispatch(message);
      return;
    }
    for (const name of EVENT_ROUTES[message.event.type] ?? []) this.#listeners.get(name)?.dispatch(message);
  }
}

const dispatchers = new WeakMap<AppContext, EventDispatcher>();

/** The dispatcher of this app (one per context, subscribed to its bus once). */
export function dispatcherOf(ctx: AppContext): EventDispatcher {
  let dispatcher = dispatchers.get(ctx);
  if (!dispatcher) {
    dispatcher = new EventDispatcher((listener) => ctx.bus.subscribe(listener));
    dispatchers.set(ctx, dispatcher);
  }
  return dispatcher;
}
