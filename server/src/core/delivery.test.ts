import { describe, expect, it } from 'vitest';
import { advancesDelivery, type ReportedDelivery } from './delivery';

describe('delivery reports move a message forward only', () => {
  const cases: [string, ReportedDelivery, boolean][] = [
    ['pending', 'sent', true],
    ['sent', 'delivered', true],
    ['sent', 'read', true],
    ['delivered', 'read', true],
    ['read', 'delivered', false],
    ['delivered', 'delivered', false],
    ['read', 'sent', false],
    ['sent', 'failed', true],
    ['delivered', 'failed', true],
    ['read', 'failed', false],
    ['failed', 'delivered', false],
    ['received', 'read', false],
    ['none', 'sent', false],
  ];
  it.each(cases)('%s + %s → %s', (current, report, expected) => {
    expect(advancesDelivery(current, report)).toBe(expected);
  });
});
