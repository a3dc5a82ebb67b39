import { Type } from '@sinclair/typebox';
import { DEFAULT_GRAPH_BASE, DEFAULT_GRAPH_VERSION } from './graph';

/**
 * The settings every Meta channel kind (WhatsApp, Messenger, Instagram) takes from its Meta app:
 * the app secret that signs webhooks, the verify token of the subscription handshake, and where the
 * Graph API is (a proxy or the local fake in tests).
 */
export const META_APP_SETTINGS = {
  appSecret: Type.Optional(
    Type.String({
      pattern: '^[0-9a-fA-F]{16,64}$',
      description: "The Meta app's secret: it signs every webhook (X-Hub-Signature-256). Stored encrypted.",
      writeOnly: true,
    }),
  ),
  verifyToken: Type.Optional(
    Type.String({
      minLength: 8,
      maxLength: 200,
      pattern: '^[\\x21-\\x7e]+$',
      description:
        'Any string you choose; paste the same in the webhook settings of the Meta app. Stored encrypted.',
      writeOnly: true,
    }),
  ),
  graphApiBase: Type.Optional(
    Type.String({
      format: 'uri',
      maxLength: 2048,
      description: `Graph API server (default ${DEFAULT_GRAPH_BASE})`,
    }),
  ),
  graphApiVersion: Type.Optional(
    Type.String({
      pattern: '^v[0-9]{1,3}\\.[0-9]$',
      description: `Graph API version (default ${DEFAULT_GRAPH_VERSION})`,
    }),
  ),
};
