import type { OpenlinesEvent } from '@openlines/contract';
import { describe, expect, it } from 'vitest';
import type { BusMessage, EventEnvelope } from '../bus/bus';
import { EVENT_ROUTES, EventDispatcher, type ListenerName } from './event-dispatch';

function envelope(event: Pick<OpenlinesEvent, 'type' | 'data'>): EventEnvelope {
  return {
    accountId: 'a',
    audience: { kind: 'account' } as EventEnvelope['audience'],
    event: { ...event, cursor: 1, at: '2026-12-02T10:00:00Z' } as OpenlinesEvent,
  };
}

function harness() {
  let publish: (message: BusMessage) => void = () => {};
  const dispatcher = new EventDispatcher((listener) => {
    publish = listener;
    return () => {};
  });
  const heard: string[] = [];
  const names: ListenerName[] = ['realtime', 'outboxWake', 'channelCache', 'telegramSync'];
  for (const name of names) dispatcher.on(name, ({ event }) => heard.push(`${name}:${event.type}`));
  dispatcher.onTransient(() => heard.push('transient'));
  return { publish: (message: BusMessage) => publish(message), heard, dispatcher };
}

describe('event dispatcher', () => {
  it.each([
    ['message.created', ['realtime', 'outboxWake']],
    ['channel.changed', ['realtime', 'channelCache', 'telegramSync', 'outboxWake']],
    ['dialog.updated', ['realtime', 'outboxWake']],
    ['message.updated', ['realtime', 'outboxWake']],
  ] as const)('hands %s to the listeners routed to it, and only those', (type, names) => {
    const { publish, heard } = harness();
    publish(envelope({ type, data: {} } as Pick<OpenlinesEvent, 'type' | 'data'>));
    expect(heard).toEqual(names.map((name) => `${name}:${type}`));
  });

  it('routes every event type to the sockets', () => {
    for (const names of Object.values(EVENT_ROUTES)) expect(names).toContain('realtime');
  });

  it('hands signals without a row (typing) to the transient listeners only', () => {
    const { publish, heard } = harness();
    publish({
      accountId: 'a',
      audience: { kind: 'account' } as EventEnvelope['audience'],
      transient: { type: 'typing' } as never,
    });
    expect(heard).toEqual(['transient']);
  });

  it('keeps dispatching when a listener throws, and stops a listener that left', () => {
    const { publish, heard, dispatcher } = harness();
    const leave = dispatcher.on('realtime', () => {
      throw new Error('broken listener');
    });
    publish(envelope({ type: 'message.created', data: {} } as Pick<OpenlinesEvent, 'type' | 'data'>));
    expect(heard).toEqual(['realtime:message.created', 'outboxWake:message.created']);
    leave();
    const stop = dispatcher.on('outboxWake', () => heard.push('second'));
    stop();
    heard.length = 0;
    publish(envelope({ type: 'message.created', data: {} } as Pick<OpenlinesEvent, 'type' | 'data'>));
    expect(heard).toEqual(['realtime:message.created', 'outboxWake:message.created']);
  });
});
