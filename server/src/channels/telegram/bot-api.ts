import { Api, GrammyError, HttpError } from 'grammy';
import { ConnectorError } from '../connector';

/**
 * The Bot API client: grammY's `Api` (typed methods, multipart uploads, Telegram's error bodies
 * as GrammyError) pointed at a configurable API root, plus the one thing grammY's core leaves out,
 * downloading a file. Every failure leaves here as a neutral ConnectorError; no message carries the
 * token (grammY keeps URLs out of its errors, and so do we).
 */

export interface BotApiOptions {
  apiRoot: string;
  /** A request is aborted after this long (grammY counts whole seconds). */
  timeoutMs: number;
}

export function botApi(token: string, options: BotApiOptions): Api {
  return new Api(token, {
    apiRoot: options.apiRoot,
    timeoutSeconds: Math.max(1, Math.ceil(options.timeoutMs / 1000)),
  });
}

/** Telegram's 400 descriptions that mean "this chat is gone", not "this message is wrong". */
const GONE_CHAT = /chat not found|user not found|peer_id_invalid|user is deactivated|bot can't initiate/i;

/**
 * A Bot API failure → the neutral error the outbox and the poller decide on:
 *   429 → rate_limited after `parameters.retry_after` · 401, 404 → auth_revoked (the token was
 *   revoked, or is not a token: Telegram answers 404 to a malformed one) · 403 → recipient_unreachable
 *   (the client blocked the bot) · 400 naming a missing chat → recipient_unreachable · other 400 →
 *   invalid_payload · 409 (webhook/getUpdates conflict), 5xx, network errors, timeouts → temporary.
 */
export function connectorErrorOf(error: unknown): ConnectorError {
  if (error instanceof ConnectorError) return error;
  if (error instanceof GrammyError) {
    const code = error.error_code;
    const what = `Telegram answered ${code}: ${error.description}`;
    const retryAfter = error.parameters?.retry_after;
    const retry = typeof retryAfter === 'number' ? { retryAfterMs: retryAfter * 1000 } : {};
    if (code === 429) return new ConnectorError('rate_limited', what, { ...retry, cause: error });
    if (code === 401 || code === 404) {
      return new ConnectorError(
        'auth_revoked',
        `${what} (the bot token is not valid any more; paste a new one from @BotFather)`,
        { cause: error },
      );
    }
    if (code === 403) return new ConnectorError('recipient_unreachable', what, { cause: error });
    if (code === 400 && GONE_CHAT.test(error.description)) {
      return new ConnectorError('recipient_unreachable', what, { cause: error });
    }
    if (code === 400) return new ConnectorError('invalid_payload', what, { cause: error });
    return new ConnectorError('temporary', what, { ...retry, cause: error });
  }
  if (error instanceof HttpError) {
    // The underlying fetch error names the URL, which holds the token: keep only its code, and do
    // not chain it as the cause (loggers print causes).
    const cause = error.error as { message?: string; code?: string; name?: string } | undefined;
    const detail =
      cause?.code ??
      (/timed out/i.test(cause?.message ?? '') || cause?.name === 'AbortError' ? 'timeout' : 'network error');
    return new ConnectorError('temporary', `Telegram cannot be reached (${detail})`);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ConnectorError('temporary', redactToken(message));
}

/** Bot tokens in a text (URLs in error messages) replaced, so logs never carry one. */
export function redactToken(text: string): string {
  return text.replace(/\d{1,20}:[A-Za-z0-9_-]{20,100}/g, '<bot token>');
}

/** Telegram's error_code behind an error (a GrammyError, or a ConnectorError caused by one). */
export function telegramStatusOf(error: unknown): number | undefined {
  const inner = error instanceof ConnectorError ? error.cause : error;
  return inner instanceof GrammyError ? inner.error_code : undefined;
}

/** Runs a Bot API call; any failure is a ConnectorError. */
export async function callBotApi<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw connectorErrorOf(error);
  }
}

/** Where the Bot API serves a file that `getFile` described (the path is valid for an hour). */
export function fileDownloadUrl(apiRoot: string, token: string, filePath: string): string {
  const path = filePath
    .split('/')
    .map((part) => encodeURIComponent(part))
    .join('/');
  return `${apiRoot}/file/bot${token}/${path}`;
}

/**
 * Downloads a file by its `file_path`, at most `maxBytes` (a larger one is invalid_payload: it can
 * never be stored). 404 is not_found, 5xx and network errors are temporary.
 */
export async function downloadFile(
  options: BotApiOptions & { token: string; maxBytes: number },
  filePath: string,
): Promise<Buffer> {
  let response: Response;
  try {
    response = await fetch(fileDownloadUrl(options.apiRoot, options.token, filePath), {
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (error) {
    const name = (error as { name?: string })?.name;
    const detail =
      name === 'TimeoutError' ? `no answer within ${options.timeoutMs} ms` : 'the file cannot be fetched';
    throw new ConnectorError('temporary', `Telegram file download failed: ${detail}`);
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => {});
    const what = `Telegram file download answered HTTP ${response.status}`;
    if (response.status === 404 || response.status === 400) throw new ConnectorError('not_found', what);
    if (response.status === 401) throw new ConnectorError('auth_revoked', what);
    throw new ConnectorError('temporary', what);
  }
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > options.maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw new ConnectorError('invalid_payload', `The file is larger than ${options.maxBytes} bytes`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (!response.body) return Buffer.alloc(0);
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > options.maxBytes) {
        await reader.cancel().catch(() => {});
        throw new ConnectorError('invalid_payload', `The file is larger than ${options.maxBytes} bytes`);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof ConnectorError) throw error;
    throw new ConnectorError('temporary', 'Telegram file download was interrupted');
  }
  return Buffer.concat(chunks);
}
