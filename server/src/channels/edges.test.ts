import { describe, expect, it } from 'vitest';
import { edgeKinds } from './edges';
import { connectorKinds } from './registry';

describe('channel edges', () => {
  it('belong to a registered connector, one edge per kind', () => {
    const kinds = edgeKinds();
    expect(new Set(kinds).size).toBe(kinds.length);
    for (const kind of kinds) expect(connectorKinds()).toContain(kind);
  });
});
