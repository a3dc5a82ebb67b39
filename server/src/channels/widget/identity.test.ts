import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { widgetConnector } from './connector';
import { identityHash, verifyIdentityHash } from './identity';
import { installSnippet } from './snippet';

const secret = 'olwi_test-secret';

describe('identity verification', () => {
  it('is hex HMAC-SHA256 of the id with the identity secret, as any site server computes it', () => {
    const expected = createHmac('sha256', secret).update('user-42').digest('hex');
    expect(identityHash(secret, 'user-42')).toBe(expected);
    expect(verifyIdentityHash(secret, 'user-42', expected)).toBe(true);
    expect(verifyIdentityHash(secret, 'user-42', expected.toUpperCase())).toBe(true);
  });

  it.each([
    ['another id', 'user-43', identityHash(secret, 'user-42')],
    ['another secret', 'user-42', identityHash('olwi_other', 'user-42')],
    ['not hex', 'user-42', 'z'.repeat(64)],
    ['too short', 'user-42', 'abcd'],
    ['empty', 'user-42', ''],
  ])('refuses %s', (_name, id, hash) => {
    expect(verifyIdentityHash(secret, id, hash)).toBe(false);
  });
});

describe('the widget connector', () => {
  const io = { clock: { now: () => new Date() }, timeoutMs: 1000 };

  it('makes a public key and an identity secret on creation, and keeps the key ever after', async () => {
    const created = await widgetConnector.prepare(
      { settings: { allowedDomains: ['Example.com', 'example.com'] }, current: null, rotate: true },
      io,
    );
    expect(created.settings).toEqual({
      allowedDomains: ['example.com'],
      appearance: { color: '#2563eb', position: 'right', title: null },
      language: 'auto',
      publicKey: expect.stringMatching(/^[A-Za-z0-9_-]{24}$/),
    });
    expect(created.externalKey).toBe(created.settings.publicKey);
    expect(created.reveal).toEqual({ identitySecret: expect.stringMatching(/^olwi_/) });
    const current = { id: 'c1', settings: created.settings, secrets: created.secrets };
    const updated = await widgetConnector.prepare(
      { settings: { allowedDomains: ['other.example'], publicKey: 'forged' }, current, rotate: false },
      io,
    );
    expect(updated.settings.publicKey).toBe(created.settings.publicKey);
    expect(updated.reveal).toEqual({});
    expect(updated.secrets).toBe(created.secrets);
    const rotated = await widgetConnector.prepare(
      { settings: { allowedDomains: ['x.example'] }, current, rotate: true },
      io,
    );
    expect(rotated.settings.publicKey).toBe(created.settings.publicKey);
    expect(rotated.reveal.identitySecret).not.toBe(created.reveal.identitySecret);
  });

  it('delivers nothing itself: the visitor socket does', async () => {
    await expect(widgetConnector.send({} as never, {} as never, io)).resolves.toEqual({});
  });
});

describe('the install snippet', () => {
  it('defines window.Openlines with a call queue and adds the loader with the key', () => {
    const snippet = installSnippet('https://support.example.com/', 'KEY_abc-123');
    expect(snippet).toMatch(/^<script>\(function\(w,d,u,k\)\{.*<\/script>$/);
    expect(snippet).toContain('"https://support.example.com/widget/loader.js","KEY_abc-123"');
    expect(snippet).toContain('open close toggle identify reset on off');
  });

  it('cannot be broken out of by a strange base URL', () => {
    const snippet = installSnippet('https://x.example/</script><script>alert(1)', 'k');
    expect(snippet.match(/<\/script>/g)).toHaveLength(1);
  });
});
