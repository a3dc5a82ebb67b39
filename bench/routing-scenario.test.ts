import type { SessionTransition } from '@openlines/contract';
import { describe, expect, it } from 'vitest';
import { checkTransitions } from './routing-scenario';

// The routing scenario's verdict comes from replaying stored transitions; the replay itself must
// catch what it claims to catch.

const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 10, 0, second)).toISOString();
function step(sessionId: string, from: string | null, to: string, operatorId: string | null, second: number) {
  return {
    sessionId,
    from,
    to,
    operatorId,
    actorKind: 'system',
    actorId: null,
    reason: 'routed_evenly',
    at: at(second),
  } as SessionTransition;
}

describe('checkTransitions', () => {
  it('counts what each operator held at once and finds nothing wrong in a clean run', () => {
    const transitions = [
      step('s1', null, 'queued', null, 0),
      step('s2', null, 'queued', null, 0),
      step('s3', null, 'queued', null, 0),
      step('s1', 'queued', 'assigned', 'a', 1),
      step('s2', 'queued', 'assigned', 'a', 1),
      step('s3', 'queued', 'assigned', 'b', 1),
    ];
    expect(checkTransitions(transitions, 2)).toEqual({
      mostHeldByOne: 2,
      overLimitOperators: 0,
      doubleAssignedSessions: 0,
    });
  });

  it('finds an operator over the limit', () => {
    const transitions = ['s1', 's2', 's3'].map((id) => step(id, 'queued', 'assigned', 'a', 1));
    expect(checkTransitions(transitions, 2)).toMatchObject({ mostHeldByOne: 3, overLimitOperators: 1 });
  });

  it('finds a session handed to a second operator while the first still held it', () => {
    const transitions = [
      step('s1', 'queued', 'assigned', 'a', 1),
      step('s1', 'assigned', 'assigned', 'b', 2),
    ];
    expect(checkTransitions(transitions, 5).doubleAssignedSessions).toBe(1);
  });

  it('a release and a new assignment at the same instant do not count as two held', () => {
    const transitions = [
      step('s1', 'queued', 'assigned', 'a', 1),
      step('s2', 'queued', 'assigned', 'a', 2),
      step('s1', 'assigned', 'closed', 'a', 2),
    ];
    expect(checkTransitions(transitions, 1)).toMatchObject({ mostHeldByOne: 1, overLimitOperators: 0 });
  });
});
