import type { ChannelKind } from '@openlines/contract';
import { describe, expect, it } from 'vitest';
import { renderTemplate, windowClosed } from './reply-window';

const whatsapp = { kind: 'whatsapp', replyWindowHours: 24, templates: true } as ChannelKind;
const telegram = { kind: 'telegram' } as ChannelKind;
const at = Date.parse('2026-03-02T10:00:00Z');

describe('the reply window', () => {
  it.each([
    [whatsapp, '2026-03-01T10:00:01Z', false],
    [whatsapp, '2026-03-01T09:59:59Z', true],
    [whatsapp, null, false],
    [telegram, '2026-01-01T00:00:00Z', false],
    [undefined, '2026-01-01T00:00:00Z', false],
  ])('%o, client last wrote %s → closed %s', (kind, last, closed) => {
    expect(windowClosed(kind, last, at)).toBe(closed);
  });

  it('fills a template body in order, leaving missing parameters visible', () => {
    expect(renderTemplate('Hi {{1}}, order {{2}} ({{1}})', ['Ivan', '42'])).toBe('Hi Ivan, order 42 (Ivan)');
    expect(renderTemplate('Hi {{1}}, order {{2}}', ['Ivan'])).toBe('Hi Ivan, order {{2}}');
  });
});
