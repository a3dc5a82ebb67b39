import { describe, expect, it } from 'vitest';
import { type MergeableContact, mergedContactFields, planLeadConversion } from './crm-conversion';

const lead = { title: 'Lead A', status: 'new' as const, contactId: null, companyId: null };
const C = '00000000-0000-4000-8000-00000000000c';
const K = '00000000-0000-4000-8000-00000000000a';

describe('planLeadConversion', () => {
  it.each([
    [
      'a bare lead: new contact named after it, no company, a deal',
      lead,
      {},
      {
        kind: 'convert',
        plan: {
          contact: { kind: 'new', name: 'Lead A' },
          company: { kind: 'none' },
          deal: { title: 'Lead A' },
        },
      },
    ],
    [
      'the lead’s own contact and company are used',
      { ...lead, contactId: C, companyId: K },
      { deal: false },
      {
        kind: 'convert',
        plan: { contact: { kind: 'existing', id: C }, company: { kind: 'existing', id: K }, deal: null },
      },
    ],
    [
      'a named new contact wins over the lead’s',
      { ...lead, contactId: C },
      { contactName: 'Olga', companyName: 'Acme', dealTitle: 'D' },
      {
        kind: 'convert',
        plan: {
          contact: { kind: 'new', name: 'Olga' },
          company: { kind: 'new', name: 'Acme' },
          deal: { title: 'D' },
        },
      },
    ],
    [
      'converted is refused',
      { ...lead, status: 'converted' as const },
      {},
      {
        kind: 'refuse',
        errors: [{ field: 'lead.status', message: 'a converted lead cannot be converted' }],
      },
    ],
    [
      'junk is refused',
      { ...lead, status: 'junk' as const },
      {},
      {
        kind: 'refuse',
        errors: [{ field: 'lead.status', message: 'a junk lead cannot be converted' }],
      },
    ],
    [
      'company id and name together',
      lead,
      { companyId: K, companyName: 'X' },
      {
        kind: 'refuse',
        errors: [{ field: 'body.companyName', message: 'give either companyId or companyName' }],
      },
    ],
    [
      'deal fields without a deal',
      lead,
      { deal: false, stageId: K },
      {
        kind: 'refuse',
        errors: [{ field: 'body.stageId', message: 'only with a deal (deal is false)' }],
      },
    ],
  ])('%s', (_name, given, input, expected) => {
    expect(planLeadConversion(given, input)).toEqual(expected);
  });
});

describe('mergedContactFields', () => {
  const survivor: MergeableContact = {
    name: 'S',
    photoUrl: null,
    notes: '',
    companyId: K,
    responsibleId: 'u1',
    consentMissing: false,
  };
  const duplicate: MergeableContact = {
    name: 'D',
    photoUrl: 'http://p',
    notes: 'n',
    companyId: null,
    responsibleId: 'u2',
    consentMissing: true,
  };
  it.each([
    [
      'keeps the survivor’s, fills its gaps, consent missing from either',
      [],
      {
        name: 'S',
        photoUrl: 'http://p',
        notes: 'n',
        companyId: K,
        responsibleId: 'u1',
        consentMissing: true,
      },
    ],
    [
      'takes the named fields from the duplicate',
      ['name', 'responsibleId', 'companyId'] as const,
      {
        name: 'D',
        photoUrl: 'http://p',
        notes: 'n',
        companyId: null,
        responsibleId: 'u2',
        consentMissing: true,
      },
    ],
  ])('%s', (_name, take, expected) => {
    expect(mergedContactFields(survivor, duplicate, take)).toEqual(expected);
  });
});
