import { OpenlinesClient, OpenlinesError } from '@openlines/sdk';

/** The one API client of the app: same origin, session cookie + CSRF token (the SDK handles both). */
export const client = new OpenlinesClient({ baseUrl: window.location.origin });

/** Kinds known to the web app's forms; the server's registry decides what can really be connected. */
const FALLBACK_KINDS = ['api'];

/**
 * The channel kinds the server's registry offers. There is no listing endpoint yet, so this asks the
 * server to validate a channel of an impossible kind: it refuses before touching anything (the kind is
 * checked first) and names the kinds it knows. Nothing is ever created by this call.
 */
export async function channelKinds(): Promise<string[]> {
  try {
    await client.channels.create({
      kind: '-',
      name: '-',
      lineId: '00000000-0000-4000-8000-000000000000',
    });
  } catch (error) {
    if (error instanceof OpenlinesError) {
      const kindError = error.errors.find((e) => e.field === 'body.kind');
      const match = kindError ? /one of: (.+)$/.exec(kindError.message) : null;
      if (match?.[1]) {
        return match[1]
          .split(',')
          .map((kind) => kind.trim())
          .filter((kind) => /^[a-z][a-z0-9_]*$/.test(kind));
      }
    }
  }
  return FALLBACK_KINDS;
}

export { OpenlinesError };
