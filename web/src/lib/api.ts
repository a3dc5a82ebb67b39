import { OpenlinesClient, OpenlinesError } from '@openlines/sdk';

/** The one API client of the app: same origin, session cookie + CSRF token (the SDK handles both). */
export const client = new OpenlinesClient({ baseUrl: window.location.origin });

/** The channel kinds the server's registry offers. */
export async function channelKinds(): Promise<string[]> {
  return (await client.channels.kinds()).map((kind) => kind.kind);
}

export { OpenlinesError };
