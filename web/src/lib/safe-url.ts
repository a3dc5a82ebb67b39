/**
 * A URL the app may put in href/src: http(s) only (absolute, or relative to this origin). Anything
 * else (`javascript:`, `data:`, garbage) gives null, so a link from a client or a channel can never
 * run script.
 */
export function safeUrl(value: string | null | undefined, base = 'http://localhost/'): string | null {
  if (!value) return null;
  try {
    const url = new URL(value, base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

/** Image types browsers show inline without running anything (no SVG: it can carry script). */
const INLINE_IMAGES = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/avif',
  'image/bmp',
]);

export function isInlineImage(mimeType: string): boolean {
  return INLINE_IMAGES.has(mimeType.toLowerCase());
}
