import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openJson, SecretBoxError, sealJson } from './secret-box';

const key = randomBytes(32);

describe('secret box', () => {
  it('round-trips a JSON object, with a fresh IV each time', () => {
    const value = { webhookSecret: 'olw_x', nested: { n: 1 } };
    const a = sealJson(key, value, 'row-1');
    const b = sealJson(key, value, 'row-1');
    expect(a).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('olw_x');
    expect(openJson(key, a, 'row-1')).toEqual(value);
  });

  it('refuses another key, another row, tampering and unknown formats', () => {
    const sealed = sealJson(key, { s: 'secret' }, 'row-1');
    expect(() => openJson(randomBytes(32), sealed, 'row-1')).toThrow(SecretBoxError);
    expect(() => openJson(key, sealed, 'row-2')).toThrow(SecretBoxError);
    const parts = sealed.split('.');
    const data = Buffer.from(parts[3]!, 'base64url');
    data[0] = data[0]! ^ 1;
    parts[3] = data.toString('base64url');
    expect(() => openJson(key, parts.join('.'), 'row-1')).toThrow(SecretBoxError);
    expect(() => openJson(key, `v9.${sealed.slice(3)}`, 'row-1')).toThrow(/Unknown secret format/);
    expect(() => openJson(key, 'v1.abc', 'row-1')).toThrow(/malformed/);
    expect(() => sealJson(Buffer.alloc(16), {})).toThrow(/32 bytes/);
  });
});
