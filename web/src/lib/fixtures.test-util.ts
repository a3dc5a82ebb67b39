import type { Dialog, Message, Session } from '@openlines/contract';

// Builders for the web app's unit tests: a dialog, a session, a message with sensible defaults.

export function session(overrides: Partial<Session> = {}): Session {
  return {
    id: 's1',
    dialogId: 'd1',
    lineId: 'l1',
    status: 'queued',
    operatorId: null,
    offeredTo: [],
    participantIds: [],
    pinned: false,
    unanswered: false,
    createdAt: '2026-03-02T10:00:00.000Z',
    queuedAt: '2026-03-02T10:00:00.000Z',
    assignedAt: null,
    firstAnswerAt: null,
    lastClientMessageAt: '2026-03-02T10:00:00.000Z',
    closedAt: null,
    closeReason: null,
    openedOffHours: false,
    consent: 'not_required',
    kpi: { state: 'none', waitingSince: null, dueAt: null, firstAnswerSeconds: null, breaches: 0 },
    rating: null,
    ratingRequestedAt: null,
    supervisorRating: null,
    ...overrides,
  };
}

export function dialog(overrides: Partial<Dialog> = {}, sessionOverrides: Partial<Session> = {}): Dialog {
  return {
    id: 'd1',
    lineId: 'l1',
    channelId: 'c1',
    channelKind: 'api',
    client: {
      id: 'cl1',
      name: 'Anna',
      avatarUrl: null,
      email: 'anna@example.test',
      phone: null,
      identities: [],
    },
    pinnedOperatorId: null,
    spam: false,
    unreachable: false,
    session: session(sessionOverrides),
    lastMessageAt: '2026-03-02T10:00:00.000Z',
    lastMessagePreview: 'Hello',
    createdAt: '2026-03-02T10:00:00.000Z',
    tags: [],
    ...overrides,
  };
}

export function message(id: string, createdAt: string, overrides: Partial<Message> = {}): Message {
  return {
    id,
    dialogId: 'd1',
    sessionId: 's1',
    authorKind: 'client',
    authorId: null,
    text: `text ${id}`,
    attachments: [],
    private: false,
    spam: false,
    deliveryState: 'received',
    deliveryError: null,
    externalId: null,
    clientMessageId: null,
    systemKind: null,
    createdAt,
    editedAt: null,
    deletedAt: null,
    ...overrides,
  };
}
