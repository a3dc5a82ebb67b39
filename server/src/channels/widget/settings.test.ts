import { describe, expect, it } from 'vitest';
import { checkWidgetSettings, originAllowed, parseDomainRule } from './settings';

describe('allowed domains', () => {
  it.each([
    ['example.com', true],
    ['*.example.com', true],
    ['https://shop.example.com:8443', true],
    ['http://localhost:3000', true],
    ['127.0.0.1:8080', true],
    ['[::1]:3000', true],
    ['*', true],
    ['Example.COM', true],
    ['example.com/', true],
    ['https://example.com/path', false],
    ['ftp://example.com', false],
    ['*.', false],
    ['a.*.example.com', false],
    ['https://*', false],
    ['example.com:99999', false],
    ['exa mple.com', false],
    ['-bad.example.com', false],
    ['', false],
  ])('%s is a rule: %s', (entry, valid) => {
    expect(parseDomainRule(entry) !== null).toBe(valid);
  });

  it('names the entry that is not a host', () => {
    expect(checkWidgetSettings({ allowedDomains: ['ok.example', 'not a host'] })).toEqual([
      { field: 'allowedDomains.1', message: expect.stringContaining('example.com') },
    ]);
  });

  const rules = ['shop.example.com', '*.example.org', 'https://secure.example.net', 'localhost:3000'];
  it.each([
    ['https://shop.example.com', true],
    ['http://shop.example.com:8080', true],
    ['https://SHOP.example.com', true],
    ['https://evil.shop.example.com', false],
    ['https://shop.example.com.evil.net', false],
    ['https://a.example.org', true],
    ['https://a.b.example.org', true],
    ['https://example.org', false],
    ['https://badexample.org', false],
    ['https://secure.example.net', true],
    ['http://secure.example.net', false],
    ['http://localhost:3000', true],
    ['http://localhost:3001', false],
    ['null', false],
    [undefined, false],
    ['file://', false],
    ['not a url', false],
  ])('origin %s allowed: %s', (origin, allowed) => {
    expect(originAllowed(rules, origin)).toBe(allowed);
  });

  it('lets any origin in with "*", even one without an Origin header', () => {
    expect(originAllowed(['*'], 'https://anything.example')).toBe(true);
    expect(originAllowed(['*'], undefined)).toBe(true);
  });

  it('refuses everything with an empty list', () => {
    expect(originAllowed([], 'https://shop.example.com')).toBe(false);
  });
});
