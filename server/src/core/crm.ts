/**
 * The built-in CRM's decisions (SPEC §12 CRM-1..2, Q-9, AG-3), pure: the service loads the line's
 * CRM settings, the client's consent and what the CRM knows of the client, calls these, and writes
 * what they decide in the same transaction.
 *
 * Identities are compared normalised: phones in E.164 (libphonenumber-js, the maintained port of
 * Google's libphonenumber metadata), e-mails trimmed and case-folded.
 */
import type { LineSettings } from '@openlines/contract';
import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js';
import type { UserId } from './session-machine';

export type CrmSettings = LineSettings['crm'];
export type CrmRecordKind = 'lead' | 'deal';

/** A phone in E.164 (`+79161234567`), or null when it is not a valid number. */
export function normalisePhone(raw: string, defaultCountry?: CountryCode): string | null {
  const parsed = parsePhoneNumberFromString(raw.trim(), defaultCountry);
  return parsed?.isValid() ? parsed.number : null;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** An e-mail trimmed and case-folded, or null when it does not look like one. */
export function normaliseEmail(raw: string): string | null {
  const value = raw.trim().toLowerCase();
  return value.length <= 254 && EMAIL.test(value) ? value : null;
}

/** What the CRM knows of a client, found by channel identity, then phone, then e-mail. */
export interface KnownClient {
  contactId: string;
  responsibleId: UserId | null;
  /** The client's open lead or deal, if any: a new session attaches to it instead of a duplicate. */
  openRecord: { kind: CrmRecordKind; id: string; responsibleId: UserId | null } | null;
}

export interface NewSessionCrmInput {
  settings: CrmSettings;
  /** The line asks for consent (AG-1) and this client has not given it. */
  consentMissing: boolean;
  known: KnownClient | null;
}

export type NewSessionCrmDecision =
  /** The line does not look clients up. */
  | { kind: 'off' }
  /** AG-3: nothing is written automatically for a client without consent (forwarding writes nothing). */
  | { kind: 'no_consent'; forwardTo: UserId | null }
  /** Known client with an open record: the session is attached to it. */
  | {
      kind: 'attach';
      contactId: string;
      record: { kind: CrmRecordKind; id: string };
      forwardTo: UserId | null;
    }
  /** Known client, nothing open: attached to the contact, and a new record per `CRM_CREATE`. */
  | { kind: 'known'; contactId: string; create: CrmRecordKind | null; forwardTo: UserId | null }
  /** Unknown client: a contact and a record per `CRM_CREATE` (`null` = an operator creates it). */
  | { kind: 'new'; create: CrmRecordKind | null };

/** What a new session does in the CRM. The responsible of a created record is who takes the session. */
export function decideNewSessionCrm(input: NewSessionCrmInput): NewSessionCrmDecision {
  const { settings, known } = input;
  if (!settings.enabled) return { kind: 'off' };
  const responsible = known ? (known.openRecord?.responsibleId ?? known.responsibleId) : null;
  const forwardTo = settings.forwardToResponsible ? responsible : null;
  if (input.consentMissing) return { kind: 'no_consent', forwardTo };
  if (known?.openRecord) {
    const record = { kind: known.openRecord.kind, id: known.openRecord.id };
    return { kind: 'attach', contactId: known.contactId, record, forwardTo };
  }
  const create = settings.create === 'none' ? null : settings.create;
  if (known) return { kind: 'known', contactId: known.contactId, create, forwardTo };
  return { kind: 'new', create };
}

/**
 * AG-3, saving by hand: an operator creating a record for a client without consent is warned and
 * must confirm; the record then notes that consent is missing.
 */
export type ManualSaveDecision =
  | { kind: 'save'; consentMissing: boolean }
  | { kind: 'confirm'; reason: 'consent_missing' };

export function decideManualSave(consentMissing: boolean, confirmed: boolean): ManualSaveDecision {
  if (!consentMissing) return { kind: 'save', consentMissing: false };
  return confirmed ? { kind: 'save', consentMissing: true } : { kind: 'confirm', reason: 'consent_missing' };
}

/** `CRM_TRANSFER_CHANGE`: the record's responsible after a transfer to `to` (null = unchanged). */
export function responsibleAfterTransfer(
  settings: CrmSettings,
  current: UserId | null,
  to: UserId,
): UserId | null {
  if (!settings.enabled || !settings.changeResponsibleOnTransfer || current === to) return null;
  return to;
}

/** The stages of the pipeline every account starts with; admins rename, reorder and add to them. */
export const DEFAULT_STAGES: readonly { name: string; semantics: 'open' | 'won' | 'lost' }[] = [
  { name: 'New', semantics: 'open' },
  { name: 'Qualification', semantics: 'open' },
  { name: 'Proposal', semantics: 'open' },
  { name: 'Negotiation', semantics: 'open' },
  { name: 'Won', semantics: 'won' },
  { name: 'Lost', semantics: 'lost' },
];
export const DEFAULT_PIPELINE_NAME = 'Sales';

export type IdentityKind = 'channel' | 'phone' | 'email';
export interface Identity {
  kind: IdentityKind;
  value: string;
}

/** How a channel user is written as a contact identity. */
export function channelIdentity(channelId: string, externalId: string): Identity {
  return { kind: 'channel', value: `${channelId}:${externalId}` };
}

/**
 * The identities a client is looked up by, in the order they count (CRM-2): the channel user,
 * then the phone, then the e-mail. A phone or e-mail that does not normalise is left out.
 */
export function lookupIdentities(client: {
  channelId: string;
  externalId: string;
  phone?: string | null;
  email?: string | null;
}): Identity[] {
  const found: Identity[] = [channelIdentity(client.channelId, client.externalId)];
  const phone = client.phone ? normalisePhone(client.phone) : null;
  if (phone) found.push({ kind: 'phone', value: phone });
  const email = client.email ? normaliseEmail(client.email) : null;
  if (email) found.push({ kind: 'email', value: email });
  return found;
}

export interface IdentityMatch {
  /** The position in `lookupIdentities`' answer of the identity that matched. */
  rank: number;
  contactId: string;
  responsibleId: UserId | null;
  openLead: { id: string; responsibleId: UserId | null } | null;
  openDeal: { id: string; responsibleId: UserId | null } | null;
}

/**
 * The contact a client is, from the identities that matched: the best-ranked match wins (the
 * channel user over a phone over an e-mail). Its open deal comes before its open lead: a deal is
 * the further step of the same client's business.
 */
export function pickKnownClient(matches: readonly IdentityMatch[]): KnownClient | null {
  const best = [...matches].sort((a, b) => a.rank - b.rank)[0];
  if (!best) return null;
  const open = best.openDeal
    ? { kind: 'deal' as const, ...best.openDeal }
    : best.openLead
      ? { kind: 'lead' as const, ...best.openLead }
      : null;
  return { contactId: best.contactId, responsibleId: best.responsibleId, openRecord: open };
}

/** `CRM_SOURCE`: `create` names the source after the line; otherwise it is the chosen source id. */
export function crmSourceOf(settings: CrmSettings, lineName: string): string {
  return (settings.source === 'create' ? lineName : settings.source).slice(0, 200);
}

/** The title of a lead or deal a session creates: who wrote, on which line. */
export function recordTitleOf(clientName: string, lineName: string): string {
  const title = `${clientName} — ${lineName}`;
  return title.length <= 200 ? title : `${title.slice(0, 199)}…`;
}
