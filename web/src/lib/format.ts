import type { Locale } from './catalogue';

const UNITS: Record<Locale, { s: string; m: string; h: string; d: string }> = {
  en: { s: 's', m: 'm', h: 'h', d: 'd' },
  ru: { s: ' с', m: ' мин', h: ' ч', d: ' д' },
};

/** "45s", "12m", "3h 05m", "2d 4h" (or "12 мин"): compact waiting times for lists. */
export function formatDuration(ms: number, locale: Locale = 'en'): string {
  const u = UNITS[locale];
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}${u.s}`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}${u.m}`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}${u.h} ${String(minutes % 60).padStart(2, '0')}${u.m}`;
  const days = Math.floor(hours / 24);
  return `${days}${u.d} ${hours % 24}${u.h}`;
}

/** A number of seconds as a person says it: 90 → "1m 30s", 3600 → "1h" (or "1 мин 30 с"). */
export function describeSeconds(total: number, locale: Locale = 'en'): string {
  const u = UNITS[locale];
  if (!Number.isFinite(total) || total <= 0) return `0${u.s}`;
  const parts: string[] = [];
  const units: [number, string][] = [
    [86400, u.d],
    [3600, u.h],
    [60, u.m],
    [1, u.s],
  ];
  let rest = Math.floor(total);
  for (const [size, unit] of units) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join(' ');
}

/** The local calendar day of a timestamp, as `YYYY-MM-DD` in the given time zone. */
export function dayKey(iso: string, timeZone?: string): string {
  const date = new Date(iso);
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).formatToParts(date);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

export function formatTime(iso: string, locale: Locale): string {
  return new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit' }).format(new Date(iso));
}

export function formatDateTime(iso: string, locale: Locale): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

export function formatDay(key: string, locale: Locale): string {
  const [year, month, day] = key.split('-').map(Number);
  return new Intl.DateTimeFormat(locale, { dateStyle: 'full' }).format(
    new Date(year ?? 1970, (month ?? 1) - 1, day ?? 1),
  );
}

export function formatBytes(size: number): string {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KB`;
  return `${(size / 1024 / 1024).toFixed(1)} MB`;
}
