import type {
  EraseClientBody,
  ErasureSummary,
  PrivacySettings,
  UpdatePrivacySettingsBody,
} from '@openlines/contract';
import { segment, type Transport } from '../transport';

/** A client's right to erasure and the account's retention (needs managePersonalData). */
export class PrivacyApi {
  constructor(private readonly transport: Transport) {}

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
