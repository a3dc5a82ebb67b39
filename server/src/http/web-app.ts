import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** Where `npm run build` (web/vite.config.ts) puts the operator and administration app. */
export const WEB_DIST_DIR = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

/**
 * The app's Content-Security-Policy: only its own scripts and styles, no inline code, no eval, no
 * plugins, no framing, and DOM sinks behind Trusted Types; the app renders every user text as text.
 * Images may come from https (client avatars of messengers) and blobs/data (previews).
 */
export const WEB_APP_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob: https:",
  "font-src 'self'",
  "connect-src 'self'",
  "media-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "worker-src 'self'",
  "manifest-src 'self'",
  "require-trusted-types-for 'script'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': WEB_APP_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
};

/** Hashed build output never changes; the page itself is revalidated so a new build is picked up. */
const CACHE_IMMUTABLE = 'public, max-age=31536000, immutable';
const CACHE_REVALIDATE = 'no-cache';
const CACHE_SHORT = 'public, max-age=3600';

const NOT_BUILT_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Openlines</title></head>
<body><h1>The web app is not built</h1><p>Run <code>npm run build</code> (or <code>npm start</code>, which builds it when needed), then reload this page.</p>
<p>The API and its documentation are at <a href="/api/docs">/api/docs</a>.</p></body></html>`;

function isApiPath(path: string): boolean {
  return path === '/api' || path.startsWith('/api/');
}

/**
 * Serves the built web app (web/dist) at `/`: files as they are (precompressed .br/.gz when the
 * browser takes them), and index.html for every other GET that is not an API path, so the app's own
 * routes (/dialogs/…, /admin/…) survive a reload. API paths keep their problem+json 404s.
 */
export async function webAppPlugin(app: FastifyInstance, options: { root?: string } = {}): Promise<void> {
  const root = options.root ?? WEB_DIST_DIR;
  await app.register(fastifyStatic, {
    root,
    serve: false,
    preCompressed: true,
    cacheControl: false,
    etag: true,
    lastModified: true,
    dotfiles: 'deny',
    index: false,
  });

  const sendIndex = (reply: FastifyReply) =>
    reply.headers(SECURITY_HEADERS).header('cache-control', CACHE_REVALIDATE).sendFile('index.html');

  app.route({
    method: ['GET', 'HEAD'],
    url: '/*',
    config: { public: true },
    schema: { hide: true },
    handler: (request, reply) => {
      const path = request.url.split('?')[0] ?? '/';
      if (isApiPath(path)) return reply.callNotFound();
      if (!existsSync(`${root}/index.html`)) {
        return reply
          .status(503)
          .headers(SECURITY_HEADERS)
          .header('cache-control', 'no-store')
          .type('text/html; charset=utf-8')
          .send(NOT_BUILT_PAGE);
      }
      const last = path.slice(path.lastIndexOf('/') + 1);
      // A path naming a file is a file (a missing one is a 404); any other path is a route of the app.
      if (!last.includes('.')) return sendIndex(reply);
      if (last === 'index.html') return sendIndex(reply);
      const cache = path.startsWith('/assets/') ? CACHE_IMMUTABLE : CACHE_SHORT;
      return reply.headers(SECURITY_HEADERS).header('cache-control', cache).sendFile(path.slice(1));
    },
  });
}
