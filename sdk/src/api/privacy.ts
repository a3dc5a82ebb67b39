import type {
  AuditListQuery,
  AuditPage,
  EraseClientBody,
  ErasureSummary,
  PrivacySettings,
  UpdatePrivacySettingsBody,
} from '@openlines/contract';
import { segment, type Transport } from '../transport';

/** A client's rights (export, erasure), the account's retention and the audit log (needs managePersonalData). */
export class PrivacyApi {
  constructor(private readonly transport: Transport) {}

  /** The audit log, newest first; pass the page's nextCursor as `cursor` for the next one. */
  auditLog(query: AuditListQuery = {}): Promise<AuditPage> {
    return this.transport.request('GET', '/audit-log', { query: { ...query } });
  }

  /**
   * The address of a client's data export (a zip). In a browser, a link to it downloads the zip
   * with the session cookie; elsewhere fetch it with `transport.authHeaders()`.
   */
  clientExportUrl(clientId: string): string {
    return this.transport.url(`/api/v1/clients/${segment(clientId)}/export`);
  }

  /** A client's data export as bytes (Node, tests); browsers should follow clientExportUrl. */
  async exportClient(clientId: string): Promise<ArrayBuffer> {
    return this.transport.download(`/clients/${segment(clientId)}/export`);
  }

  /** Erases (`delete`) or anonymises a client; `confirm` must be the client's current name. */
  eraseClient(clientId: string, input: EraseClientBody): Promise<ErasureSummary> {
    return this.transport.request('POST', `/clients/${segment(clientId)}/erase`, { body: input });
  }

  settings(): Promise<PrivacySettings> {
    return this.transport.request('GET', '/privacy/settings');
  }

  updateSettings(input: UpdatePrivacySettingsBody): Promise<PrivacySettings> {
    return this.transport.request('PATCH', '/privacy/settings', { body: input });
  }
}
