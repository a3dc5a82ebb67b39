import { type Static, Type } from '@sinclair/typebox';
import type { SettingsIssue } from '../connector';

/**
 * Public settings of a website widget channel (LN-6). The widget's schedule is not here: it is the
 * line's `workingHours.widget` (WH-3), so a line has one place for its hours.
 */
export const WidgetChannelSettingsSchema = Type.Object(
  {
    allowedDomains: Type.Array(Type.String({ minLength: 1, maxLength: 300 }), {
      minItems: 1,
      maxItems: 100,
      description:
        'Sites that may embed the widget: `example.com` (any port, http or https), `*.example.com` (its subdomains), `https://shop.example.com:8443`, or `*` for any site. Every public widget endpoint checks the Origin against this list.',
    }),
    appearance: Type.Optional(
      Type.Object(
        {
          color: Type.Optional(Type.String({ pattern: '^#[0-9a-fA-F]{6}$', description: 'Accent colour' })),
          position: Type.Optional(Type.Union([Type.Literal('right'), Type.Literal('left')])),
          title: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 60 }), Type.Null()])),
        },
        { additionalProperties: false },
      ),
    ),
    language: Type.Optional(
      Type.Union([Type.Literal('auto'), Type.Literal('ru'), Type.Literal('en')], {
        description: "auto: the page's language when it is ru or en, else the line's language",
      }),
    ),
    publicKey: Type.Optional(
      Type.String({ maxLength: 100, description: 'Set by the server: the key in the install snippet' }),
    ),
  },
  { additionalProperties: false },
);
export type WidgetChannelSettings = Static<typeof WidgetChannelSettingsSchema>;

/** Settings as stored: every field present. */
export interface StoredWidgetSettings {
  allowedDomains: string[];
  appearance: { color: string; position: 'right' | 'left'; title: string | null };
  language: 'auto' | 'ru' | 'en';
  publicKey: string;
}

export const DEFAULT_COLOR = '#2563eb';

export function normalizeWidgetSettings(
  settings: WidgetChannelSettings,
  publicKey: string,
): StoredWidgetSettings {
  return {
    allowedDomains: [...new Set(settings.allowedDomains.map((entry) => entry.trim().toLowerCase()))],
    appearance: {
      color: settings.appearance?.color?.toLowerCase() ?? DEFAULT_COLOR,
      position: settings.appearance?.position ?? 'right',
      title: settings.appearance?.title ?? null,
    },
    language: settings.language ?? 'auto',
    publicKey,
  };
}

/** Reads stored settings defensively (an older row may lack a field). */
export function storedWidgetSettings(raw: Record<string, unknown>): StoredWidgetSettings {
  const appearance = (raw.appearance ?? {}) as Partial<StoredWidgetSettings['appearance']>;
  return {
    allowedDomains: Array.isArray(raw.allowedDomains) ? (raw.allowedDomains as string[]) : [],
    appearance: {
      color: typeof appearance.color === 'string' ? appearance.color : DEFAULT_COLOR,
      position: appearance.position === 'left' ? 'left' : 'right',
      title: typeof appearance.title === 'string' ? appearance.title : null,
    },
    language: raw.language === 'ru' || raw.language === 'en' ? raw.language : 'auto',
    publicKey: typeof raw.publicKey === 'string' ? raw.publicKey : '',
  };
}

interface DomainRule {
  scheme: 'http:' | 'https:' | null;
  /** Exact host, or the suffix after `*.`; null for `*`. */
  host: string | null;
  subdomains: boolean;
  port: string | null;
}

const ENTRY =
  /^(?:(https?):\/\/)?(\*|(?:\*\.)?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::(\d{1,5}))?\/?$/;

/** An allowed-domains entry as a rule, or null when it is not one. */
export function parseDomainRule(entry: string): DomainRule | null {
  const match = ENTRY.exec(entry.trim().toLowerCase());
  if (!match) return null;
  const [, scheme, host, port] = match;
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return null;
  if (host === '*') {
    return scheme || port ? null : { scheme: null, host: null, subdomains: false, port: null };
  }
  const subdomains = host!.startsWith('*.');
  return {
    scheme: scheme ? (`${scheme}:` as 'http:' | 'https:') : null,
    host: subdomains ? host!.slice(2) : host!,
    subdomains,
    port: port ?? null,
  };
}

export function checkWidgetSettings(settings: WidgetChannelSettings): SettingsIssue[] {
  const issues: SettingsIssue[] = [];
  settings.allowedDomains.forEach((entry, index) => {
    if (!parseDomainRule(entry)) {
      issues.push({
        field: `allowedDomains.${index}`,
        message: 'must be a host such as example.com, *.example.com, https://example.com:8443 or *',
      });
    }
  });
  return issues;
}

function defaultPort(protocol: string): string {
  return protocol === 'https:' ? '443' : '80';
}

/**
 * Whether a browser Origin (`https://shop.example.com`) may use this widget. A missing or opaque
 * (`null`) origin is refused unless the list holds `*`: the widget runs inside the site's pages,
 * and browsers send Origin on every request it makes.
 */
export function originAllowed(allowedDomains: string[], origin: string | undefined): boolean {
  const rules = allowedDomains.map(parseDomainRule).filter((rule): rule is DomainRule => rule !== null);
  if (rules.some((rule) => rule.host === null)) return true;
  if (!origin || origin === 'null') return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  const host = url.hostname.toLowerCase();
  const port = url.port || defaultPort(url.protocol);
  return rules.some((rule) => {
    if (rule.scheme && rule.scheme !== url.protocol) return false;
    if (rule.port && rule.port !== port) return false;
    if (rule.subdomains) return host.endsWith(`.${rule.host}`);
    return host === rule.host;
  });
}
