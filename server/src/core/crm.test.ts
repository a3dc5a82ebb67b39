import { defaultLineSettings } from '@openlines/contract';
import { describe, expect, it } from 'vitest';
import {
  type CrmSettings,
  crmSourceOf,
  decideManualSave,
  decideNewSessionCrm,
  type IdentityMatch,
  type KnownClient,
  lookupIdentities,
  normaliseEmail,
  normalisePhone,
  pickKnownClient,
  recordTitleOf,
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

describe('looking a client up', () => {
  it.each([
    [{ phone: null, email: null }, ['channel:ch:u1']],
    [
      { phone: '+7 916 123-45-67', email: ' Anna@Example.com' },
      ['channel:ch:u1', 'phone:+79161234567', 'email:anna@example.com'],
    ],
    [{ phone: 'call me', email: 'not-mail' }, ['channel:ch:u1']],
    [{ phone: null, email: 'a@b.co' }, ['channel:ch:u1', 'email:a@b.co']],
  ])('identities of %j', (client, expected) => {
    const found = lookupIdentities({ channelId: 'ch', externalId: 'u1', ...client });
    expect(found.map((identity) => `${identity.kind}:${identity.value}`)).toEqual(expected);
  });

  const match = (rank: number, contactId: string, extra: Partial<IdentityMatch> = {}): IdentityMatch => ({
    rank,
    contactId,
    responsibleId: `${contactId}-owner`,
    openLead: null,
    openDeal: null,
    ...extra,
  });
  it.each([
    ['nothing matched', [], null],
    ['the channel user wins over an e-mail', [match(2, 'byMail'), match(0, 'byChannel')], 'byChannel'],
    ['a phone wins over an e-mail', [match(2, 'byMail'), match(1, 'byPhone')], 'byPhone'],
  ])('%s', (_name, matches, contactId) => {
    expect(pickKnownClient(matches)?.contactId ?? null).toBe(contactId);
  });

  it.each([
    ['no open record', {}, null],
    [
      'an open lead',
      { openLead: { id: 'l', responsibleId: 'lo' } },
      { kind: 'lead', id: 'l', responsibleId: 'lo' },
    ],
    [
      'an open deal before an open lead',
      { openLead: { id: 'l', responsibleId: 'lo' }, openDeal: { id: 'd', responsibleId: null } },
      { kind: 'deal', id: 'd', responsibleId: null },
    ],
  ])('%s', (_name, extra, openRecord) => {
    expect(pickKnownClient([match(0, 'c', extra)])?.openRecord).toEqual(openRecord);
  });

  it.each([
    ['create', 'Support', 'Support'],
    ['ads', 'Support', 'ads'],
  ])('CRM_SOURCE %s on line %s is %s', (source, line, expected) => {
    expect(crmSourceOf(crm({ source }), line)).toBe(expected);
  });

  it('titles a record after the client and the line, within 200 characters', () => {
    expect(recordTitleOf('Anna', 'Support')).toBe('Anna — Support');
    expect(recordTitleOf('A'.repeat(300), 'Support')).toHaveLength(200);
  });
});
