import type { FastifyInstance } from 'fastify';
import { firstUnstorableText, repairUnstorableText } from '../core/storable-text';
import { invalidField } from '../errors';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The body is what a channel platform delivers (a webhook): unstorable characters in it are
     * replaced rather than refused, since a refused update is only delivered again.
     */
    platformPayload?: boolean;
  }
}

const PARTS = ['params', 'query', 'body'] as const;

/**
 * One policy for every string of every request, before the schemas run (core/storable-text): a NUL
 * or an unpaired surrogate anywhere in the path, query or body is a 400 naming the field, instead of
 * a database error deep inside a use case.
 */
export function refuseUnstorableText(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    if (request.routeOptions.config.platformPayload) {
      request.body = repairUnstorableText(request.body);
    }
    for (const part of PARTS) {
      const field = firstUnstorableText(request[part], part);
      if (field) throw invalidField(field, 'must not contain NUL characters or unpaired UTF-16 surrogates');
    }
  });
}
