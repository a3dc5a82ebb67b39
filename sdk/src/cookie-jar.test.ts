import { describe, expect, it } from 'vitest';
import { CookieJar } from './cookie-jar';

function headersWith(...cookies: string[]): Headers {
  const headers = new Headers();
  for (const cookie of cookies) headers.append('set-cookie', cookie);
  return headers;
}

describe('CookieJar', () => {
  it('keeps name=value of every set-cookie and sends them back', () => {
    const jar = new CookieJar();
    expect(jar.header()).toBeNull();
    jar.capture(headersWith('ol_session=abc; Path=/; HttpOnly; SameSite=Lax', 'theme=dark'));
    expect(jar.get('ol_session')).toBe('abc');
    expect(jar.header()).toBe('ol_session=abc; theme=dark');
  });

  it('replaces a value and drops cookies the server expires', () => {
    const jar = new CookieJar();
    jar.capture(headersWith('a=1', 'b=2', 'c=3'));
    jar.capture(
      headersWith('a=9', 'b=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/', 'c=3; Max-Age=0', 'd=x=y'),
    );
    expect(jar.header()).toBe('a=9; d=x=y');
    jar.clear();
    expect(jar.header()).toBeNull();
  });

  it('ignores lines that are not cookies', () => {
    const jar = new CookieJar();
    jar.capture(headersWith('garbage', '=novalue'));
    expect(jar.header()).toBeNull();
  });
});
