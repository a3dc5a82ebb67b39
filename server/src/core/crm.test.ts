import { defaultLineSettings } from '@openlines/contract';
import { describe, expect, it } from 'vitest';
import {
  type CrmSettings,
  decideManualSave,
  decideNewSessionCrm,
  type KnownClient,
  normaliseEmail,
  normalisePhone,
  responsibleAfterTransfer,
} from './crm';

const base: CrmSettings = defaultLineSettings('en').crm;
const crm = (overrides: Partial<CrmSettings> = {}): CrmSettings => ({ ...base, ...overrides });
const known = (openRecord: KnownClient['openRecord'] = null): KnownClient => ({
  contactId: 'c1',
  responsibleId: 'manager',
  openRecord,
});
const openDeal = { kind: 'deal' as const, id: 'd1', responsibleId: 'dealOwner' };

describe('normalisation', () => {
  it.each([
    ['+7 (916) 123-45-67', undefined, '+79161234567'],
    ['8 916 123 45 67', 'RU', '+79161234567'],
    ['+1 650-253-0000', undefined, '+16502530000'],
    ['12345', undefined, null],
    ['not a phone', 'RU', null],
  ] as const)('phone %s (%s) -> %s', (raw, country, expected) => {
    expect(normalisePhone(raw, country)).toBe(expected);
  });

  it.each([
    ['  Anna@Example.COM ', 'anna@example.com'],
    ['anna@example', null],
    ['no at sign', null],
    ['a@b.c', 'a@b.c'],
  ])('email %s -> %s', (raw, expected) => {
    expect(normaliseEmail(raw)).toBe(expected);
  });
});

describe('decideNewSessionCrm', () => {
  it.each([
    ['CRM off', crm({ enabled: false }), false, known(openDeal), { kind: 'off' }],
    ['unknown client, lead', crm(), false, null, { kind: 'new', create: 'lead' }],
    ['unknown client, deal', crm({ create: 'deal' }), false, null, { kind: 'new', create: 'deal' }],
    ['unknown client, none', crm({ create: 'none' }), false, null, { kind: 'new', create: null }],
    ['AG-3: no consent, unknown', crm(), true, null, { kind: 'no_consent', forwardTo: null }],
    [
      'AG-3: no consent, known still forwards',
      crm(),
      true,
      known(),
      { kind: 'no_consent', forwardTo: 'manager' },
    ],
    [
      'known with an open deal attaches, forwards to its responsible',
      crm(),
      false,
      known(openDeal),
      { kind: 'attach', contactId: 'c1', record: { kind: 'deal', id: 'd1' }, forwardTo: 'dealOwner' },
    ],
    [
      'open record without a responsible forwards to the contact’s',
      crm(),
      false,
      known({ ...openDeal, responsibleId: null }),
      { kind: 'attach', contactId: 'c1', record: { kind: 'deal', id: 'd1' }, forwardTo: 'manager' },
    ],
    [
      'CRM_FORWARD off: no forwarding',
      crm({ forwardToResponsible: false }),
      false,
      known(openDeal),
      { kind: 'attach', contactId: 'c1', record: { kind: 'deal', id: 'd1' }, forwardTo: null },
    ],
    [
      'known, nothing open: a new record on the contact',
      crm(),
      false,
      known(),
      { kind: 'known', contactId: 'c1', create: 'lead', forwardTo: 'manager' },
    ],
  ] as const)('%s', (_name, settings, consentMissing, client, expected) => {
    expect(decideNewSessionCrm({ settings, consentMissing, known: client })).toEqual(expected);
  });
});

describe('decideManualSave (AG-3)', () => {
  it.each([
    [false, false, { kind: 'save', consentMissing: false }],
    [true, false, { kind: 'confirm', reason: 'consent_missing' }],
    [true, true, { kind: 'save', consentMissing: true }],
  ] as const)('consent missing %s, confirmed %s', (missing, confirmed, expected) => {
    expect(decideManualSave(missing, confirmed)).toEqual(expected);
  });
});

describe('responsibleAfterTransfer (CRM_TRANSFER_CHANGE)', () => {
  it.each([
    ['on: changes', crm(), 'a', 'b', 'b'],
    ['on, same person: unchanged', crm(), 'b', 'b', null],
    ['on, nobody yet: set', crm(), null, 'b', 'b'],
    ['off: unchanged', crm({ changeResponsibleOnTransfer: false }), 'a', 'b', null],
    ['CRM off: unchanged', crm({ enabled: false }), 'a', 'b', null],
  ] as const)('%s', (_name, settings, current, to, expected) => {
    expect(responsibleAfterTransfer(settings, current, to)).toBe(expected);
  });
});
