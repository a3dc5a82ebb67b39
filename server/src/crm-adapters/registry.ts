import type { CrmAdapterKind } from '@openlines/contract';
import type { CrmAdapter } from './adapter';
import { RestCrmAdapter, type RestCrmIo, type RestCrmSettings } from './rest/rest-adapter';

/**
 * The external CRMs an account can choose (CRM-4): one line per adapter folder. `builtin` has no
 * entry — the built-in CRM is written inside the session's own transaction (services/crm/intake.ts),
 * which is what keeps its statement budget and its duplicate-free guarantee under concurrency.
 */
export type ExternalCrmKind = Exclude<CrmAdapterKind, 'builtin'>;

export const CRM_ADAPTERS: Record<ExternalCrmKind, (settings: RestCrmSettings, io: RestCrmIo) => CrmAdapter> =
  {
    rest: (settings, io) => new RestCrmAdapter(settings, io),
  };
