import { ConnectorError } from '../connector';
import { API_VERSION } from './settings';

/**
 * A thin VK API client over fetch (https://dev.vk.com/en/api/api-requests): `POST {base}/{method}`
 * with a form-urlencoded body carrying `access_token` and `v`; the answer is `{response}` or
 * `{error:{error_code,error_msg,request_params}}`. Not vk-io: its API worker paces calls in-process
 * and retries error 6 itself inside one call, while here the durable outbox owns every retry (and
 * its timing survives a restart); Openlines needs seven methods and the upload POST.
 *
 * Errors become ConnectorErrors by VK's code (https://dev.vk.com/en/reference/errors):
 *   5, 27 (the token is invalid or revoked)            auth_revoked
 *   6, 9, 29 (too many requests / flood / rate limit)  rate_limited
 *   901, 902 (cannot write to this user)                recipient_unreachable
 *   100, 914, 913, 921 … (the request itself is wrong) invalid_payload
 *   anything else, network errors, HTTP errors          temporary
 */

export interface VkApiError {
  error_code: number;
  error_msg: string;
  request_params?: { key: string; value: string }[];
}

export interface VkCall {
  base: string;
  token: string;
  timeoutMs: number;
}

/** When VK says nothing about when to come back: per-second limit, flood control, method limit. */
const RETRY_AFTER_MS: Record<number, number> = { 6: 1000, 9: 10_000, 29: 60_000 };

export function connectorErrorOfVk(error: VkApiError): ConnectorError {
  const code = error.error_code;
  const message = `VK error ${code}: ${error.error_msg}`;
  if (code === 5 || code === 27) return new ConnectorError('auth_revoked', message);
  if (code in RETRY_AFTER_MS)
    return new ConnectorError('rate_limited', message, { retryAfterMs: RETRY_AFTER_MS[code] });
  if (code === 901 || code === 902) return new ConnectorError('recipient_unreachable', message);
  if (code === 100 || code === 113 || code === 913 || code === 914 || code === 921 || code === 15) {
    return new ConnectorError('invalid_payload', message);
  }
  return new ConnectorError('temporary', message);
}

async function timedFetch(url: string, init: RequestInit, timeoutMs: number): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new ConnectorError('temporary', `VK is unreachable: ${(error as Error).message}`, { cause: error });
  }
}

async function jsonOf(response: Response): Promise<unknown> {
  if (response.status >= 500) throw new ConnectorError('temporary', `VK answered HTTP ${response.status}`);
  try {
    return await response.json();
  } catch (error) {
    throw new ConnectorError('temporary', `VK answered HTTP ${response.status} without JSON`, {
      cause: error,
    });
  }
}

/** One API method; the `response` value, or a ConnectorError. */
export async function callVk<T>(
  call: VkCall,
  method: string,
  params: Record<string, string | number | undefined>,
): Promise<T> {
  const body = new URLSearchParams({ access_token: call.token, v: API_VERSION });
  for (const [key, value] of Object.entries(params)) if (value !== undefined) body.set(key, String(value));
  const response = await timedFetch(`${call.base}/${method}`, { method: 'POST', body }, call.timeoutMs);
  const parsed = (await jsonOf(response)) as { response?: T; error?: VkApiError };
  if (parsed && typeof parsed === 'object' && parsed.error) throw connectorErrorOfVk(parsed.error);
  if (!parsed || typeof parsed !== 'object' || !('response' in parsed)) {
    throw new ConnectorError('temporary', `VK ${method} answered without a response`);
  }
  return parsed.response as T;
}

/** The upload-server step: a multipart POST of one file to the `upload_url` VK handed out. */
export async function uploadToVk(
  uploadUrl: string,
  field: 'photo' | 'file',
  file: { data: Buffer; name: string; mimeType: string },
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  const form = new FormData();
  form.append(field, new Blob([new Uint8Array(file.data)], { type: file.mimeType }), file.name);
  const response = await timedFetch(uploadUrl, { method: 'POST', body: form }, timeoutMs);
  const parsed = (await jsonOf(response)) as Record<string, unknown>;
  if (typeof parsed.error === 'string' || typeof parsed.error === 'object') {
    throw new ConnectorError('invalid_payload', `VK refused the upload: ${JSON.stringify(parsed.error)}`);
  }
  return parsed;
}

/** A file VK links in an inbound message (a photo size's or a document's URL), at most maxBytes. */
export async function downloadFromVk(url: string, maxBytes: number, timeoutMs: number): Promise<Buffer> {
  const response = await timedFetch(url, { method: 'GET' }, timeoutMs);
  if (response.status === 404 || response.status === 410)
    throw new ConnectorError('not_found', 'VK no longer has the file');
  if (!response.ok) throw new ConnectorError('temporary', `VK answered HTTP ${response.status} for a file`);
  const length = Number(response.headers.get('content-length') ?? 0);
  if (length > maxBytes)
    throw new ConnectorError('invalid_payload', `The file is larger than ${maxBytes} bytes`);
  const data = Buffer.from(await response.arrayBuffer());
  if (data.length > maxBytes)
    throw new ConnectorError('invalid_payload', `The file is larger than ${maxBytes} bytes`);
  return data;
}
