import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { AppError } from '../../errors';

/** Where `npm run build` (widget/build.ts) puts the widget: loader.js, app.<hash>.js, manifest.json. */
export const WIDGET_DIST_DIR = fileURLToPath(new URL('../../../../widget/dist/', import.meta.url));

/** The loader's URL is in every site's snippet, so it is cached briefly; hashed files forever. */
const LOADER_CACHE = 'public, max-age=300, stale-while-revalidate=3600';
const HASHED_CACHE = 'public, max-age=31536000, immutable';
const FILE_NAME = /^[a-z0-9][a-z0-9.-]{0,80}\.js$/;

interface Asset {
  body: Buffer;
  gzip: Buffer;
  etag: string;
}

/**
 * Serves the built widget scripts with long cache headers, gzip when the browser takes it, ETags,
 * and `Access-Control-Allow-Origin: *` (the loader imports the app as a module from the site's page,
 * which is a cross-origin, CORS-mode request). Files are read once per process.
 */
export const widgetAssetRoutes: FastifyPluginAsyncTypebox<{ distDir?: string }> = async (app, options) => {
  const distDir = options.distDir ?? WIDGET_DIST_DIR;
  const cache = new Map<string, Promise<Asset | null>>();

  const load = (name: string): Promise<Asset | null> => {
    let asset = cache.get(name);
    if (!asset) {
      asset = fs.readFile(path.join(distDir, name)).then(
        (body) => ({
          body,
          gzip: gzipSync(body, { level: 9 }),
          etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
        }),
        () => null,
      );
      cache.set(name, asset);
      // A missing file may appear after a build; do not remember its absence.
      void asset.then((found) => {
        if (!found) cache.delete(name);
      });
    }
    return asset;
  };

  app.get(
    '/widget/:file',
    {
      config: { public: true },
      schema: {
        tags: ['widget'],
        summary: 'The widget scripts: loader.js (in the snippet) and the chat app it loads on first open',
        params: Type.Object({ file: Type.String({ maxLength: 100 }) }),
      },
    },
    async (request, reply) => {
      const { file } = request.params;
      const asset = FILE_NAME.test(file) ? await load(file) : null;
      if (!asset) {
        throw new AppError(
          'not_found',
          file === 'loader.js' ? 'The widget is not built; run `npm run build`' : 'No such widget file',
        );
      }
      reply
        .header('content-type', 'text/javascript; charset=utf-8')
        .header('cache-control', file === 'loader.js' ? LOADER_CACHE : HASHED_CACHE)
        .header('etag', asset.etag)
        .header('vary', 'Accept-Encoding')
        .header('access-control-allow-origin', '*')
        .header('cross-origin-resource-policy', 'cross-origin')
        .header('x-content-type-options', 'nosniff');
      if (request.headers['if-none-match'] === asset.etag) return reply.status(304).send();
      if (/\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))) {
        return reply.header('content-encoding', 'gzip').send(asset.gzip);
      }
      return reply.send(asset.body);
    },
  );
};
