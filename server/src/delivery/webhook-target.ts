import dns from 'node:dns';
import { isIP } from 'node:net';
import { Agent } from 'undici';
import { isPublicAddress, webhookUrlProblem } from '../core/webhooks';

/**
 * The SSRF guard of event webhooks: a subscription's URL may only reach globally routable
 * addresses, unless the server allows private targets (WEBHOOKS_ALLOW_PRIVATE_TARGETS, for a
 * self-hosted setup whose receivers live on its own network, and for tests).
 *
 * Checked twice: when the URL is saved (its name is resolved, and every address it resolves to
 * must be public), and at every connection (`guardedDispatcher`: the address the socket connects
 * to is the one checked), so a name that answers differently later (DNS rebinding) still cannot
 * reach a private address.
 */
export class WebhookTargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookTargetError';
  }
}

function hostOf(url: URL): string {
  // new URL('http://[::1]/').hostname is "[::1]".
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** Throws WebhookTargetError when the URL may not be a webhook target; resolves the name to check it. */
export async function checkWebhookTarget(raw: string, allowPrivate: boolean): Promise<void> {
  const problem = webhookUrlProblem(raw);
  if (problem) throw new WebhookTargetError(problem.message);
  if (allowPrivate) return;
  const host = hostOf(new URL(raw));
  if (isIP(host)) {
    if (!isPublicAddress(host)) throw new WebhookTargetError(`must not point to a private address (${host})`);
    return;
  }
  let addresses: dns.LookupAddress[];
  try {
    addresses = await dns.promises.lookup(host, { all: true, verbatim: true });
  } catch {
    throw new WebhookTargetError(`the host "${host}" cannot be resolved`);
  }
  const refused = addresses.find((entry) => !isPublicAddress(entry.address));
  if (refused || addresses.length === 0) {
    throw new WebhookTargetError(`"${host}" resolves to a private address (${refused?.address ?? 'none'})`);
  }
}

/**
 * Before a send: what can be told without resolving (scheme, a literal private address). A name
 * is checked at connect time by the dispatcher.
 */
export function literalTargetProblem(raw: string, allowPrivate: boolean): string | null {
  const problem = webhookUrlProblem(raw);
  if (problem) return problem.message;
  if (allowPrivate) return null;
  const host = hostOf(new URL(raw));
  if (isIP(host) && !isPublicAddress(host)) return `must not point to a private address (${host})`;
  return null;
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | dns.LookupAddress[],
  family?: number,
) => void;

/** A dns.lookup that fails for any name resolving to a non-public address. */
function guardedLookup(hostname: string, options: dns.LookupOptions, callback: LookupCallback): void {
  dns.lookup(hostname, { ...options, all: true, verbatim: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const refused = addresses.find((entry) => !isPublicAddress(entry.address));
    if (refused || addresses.length === 0) {
      const blocked = Object.assign(
        new Error(`"${hostname}" resolves to a private address (${refused?.address ?? 'none'})`),
        { code: 'EWEBHOOKTARGET' },
      );
      return callback(blocked, []);
    }
    if (options.all) return callback(null, addresses);
    const first = addresses[0]!;
    return callback(null, first.address, first.family);
  });
}

/** The connection pool event webhooks are sent through; undefined when private targets are allowed. */
export function guardedDispatcher(allowPrivate: boolean): Agent | undefined {
  if (allowPrivate) return undefined;
  return new Agent({ connect: { lookup: guardedLookup as never } });
}
