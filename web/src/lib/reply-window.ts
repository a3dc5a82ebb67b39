import type { ChannelKind } from '@openlines/contract';

/** Is the reply window closed now? */
export function windowClosed(
  kind: ChannelKind | undefined,
  lastClientAt: string | null,
  now: number,
): boolean {
  if (!kind?.replyWindowHours || !lastClientAt) return false;
  return now - new Date(lastClientAt).getTime() > kind.replyWindowHours * 60 * 60 * 1000;
}

/** The template's body with the parameters filled in ({{1}} → the first). */
export function renderTemplate(body: string, parameters: string[]): string {
  return body.replace(/\{\{(\d+)\}\}/g, (whole, n: string) => parameters[Number(n) - 1] || whole);
}
