import { describe, expect, it } from 'vitest';
import { BitrixError } from './errors';
import { asList, checkJsonParams, optionalFlag, optionalId, parseForm } from './params';

const code = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    if (error instanceof BitrixError) return error.code;
    throw error;
  }
  return 'ok';
};

describe('Bitrix24 parameters', () => {
  it('reads PHP-style nested form keys', () => {
    const params = parseForm(
      'CONNECTOR=my&MESSAGES%5B0%5D%5Buser%5D%5Bid%5D=7&MESSAGES[0][message][text]=Hi%20there&MESSAGES[1][chat][id]=c',
    );
    expect(params).toEqual({
      CONNECTOR: 'my',
      MESSAGES: [{ user: { id: '7' }, message: { text: 'Hi there' } }, { chat: { id: 'c' } }],
    });
    expect(asList(params.MESSAGES)).toHaveLength(2);
  });

  it('never builds prototypes from keys', () => {
    const params = parseForm('__proto__[polluted]=1&constructor[prototype][x]=1&a=1');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(params.a).toBe('1');
  });

  it.each([
    ['deep nesting', `a${'[b]'.repeat(12)}=1`],
    ['too many parameters', Array.from({ length: 2_100 }, (_, i) => `p${i}=1`).join('&')],
  ])('refuses %s with ERROR_ARGUMENT', (_what, body) => {
    expect(code(() => parseForm(body))).toBe('ERROR_ARGUMENT');
  });

  it('reads broken brackets as plain keys rather than failing', () => {
    expect(code(() => parseForm('MESSAGES[0][user][id]]]]=x&MESSAGES[[[=y&]]=z'))).toBe('ok');
  });

  it('bounds JSON bodies like forms', () => {
    expect(code(() => checkJsonParams({ a: { b: { c: 1 } } }))).toBe('ok');
    expect(code(() => checkJsonParams(JSON.parse(`${'{"a":'.repeat(20)}1${'}'.repeat(20)}`)))).toBe(
      'ERROR_ARGUMENT',
    );
    expect(code(() => checkJsonParams([1, 2]))).toBe('ERROR_ARGUMENT');
    expect(checkJsonParams(undefined)).toEqual({});
  });

  it.each([
    ['7', 7],
    [7, 7],
    ['', undefined],
  ])('id %j → %j', (value, id) => expect(optionalId({ ID: value }, 'ID')).toBe(id));

  it.each(['0', '-1', 'abc', '1.5', '99999999999', 3.5])('refuses id %j', (value) => {
    expect(code(() => optionalId({ ID: value }, 'ID'))).toBe('ERROR_ARGUMENT');
  });

  it.each([
    ['Y', true],
    ['1', true],
    [1, true],
    ['N', false],
    ['0', false],
    [false, false],
  ])('flag %j → %j', (value, flag) => expect(optionalFlag({ F: value }, 'F')).toBe(flag));

  it('refuses a flag it would have to guess', () => {
    expect(code(() => optionalFlag({ F: 'maybe' }, 'F'))).toBe('ERROR_ARGUMENT');
  });
});
