import type {
  ConvertCrmLeadBody,
  CrmActivity,
  CrmAdapter,
  CrmAdapterBody,
  CrmCompany,
  CrmCompanyBody,
  CrmContact,
  CrmContactBody,
  CrmConversion,
  CrmDeal,
  CrmDealBody,
  CrmDialogCard,
  CrmImportBody,
  CrmImportResult,
  CrmLead,
  CrmLeadBody,
  CrmListQuery,
  CrmPipeline,
  CrmPipelineBody,
  MergeCrmContactsBody,
  Message,
  UpdateCrmCompanyBody,
  UpdateCrmContactBody,
  UpdateCrmDealBody,
  UpdateCrmLeadBody,
  UpdateCrmPipelineBody,
} from '@openlines/contract';
import { API_PREFIX, segment, type Transport } from '../transport';

export interface CrmPageOf<T> {
  items: T[];
  nextCursor: string | null;
}

/** One kind of CRM record (`/crm/<path>`): list, get, create, update, delete. */
class CrmRecords<T, Create, Update> {
  constructor(
    protected readonly transport: Transport,
    protected readonly path: string,
  ) {}

  list(query: CrmListQuery = {}): Promise<CrmPageOf<T>> {
    return this.transport.request('GET', `/crm/${this.path}`, { query });
  }

  get(id: string): Promise<T> {
    return this.transport.request('GET', `/crm/${this.path}/${segment(id)}`);
  }

  create(input: Create): Promise<T> {
    return this.transport.request('POST', `/crm/${this.path}`, { body: input });
  }

  update(id: string, input: Update): Promise<T> {
    return this.transport.request('PATCH', `/crm/${this.path}/${segment(id)}`, { body: input });
  }

  delete(id: string): Promise<void> {
    return this.transport.request('DELETE', `/crm/${this.path}/${segment(id)}`);
  }

  /** Every record the filters select, as CSV text (`cursor` and `limit` are ignored). */
  exportCsv(query: Omit<CrmListQuery, 'cursor' | 'limit'> = {}): Promise<string> {
    return this.transport.request('GET', `/crm/${this.path}/export`, { query, as: 'text' });
  }

  /** The link a browser downloads the CSV export from (same filters). */
  exportUrl(query: Omit<CrmListQuery, 'cursor' | 'limit'> = {}): string {
    return this.transport.url(`${API_PREFIX}/crm/${this.path}/export`, query);
  }

  /** Imports a CSV: all rows or none; a file with errors rejects with a problem listing them (`rows`). */
  importCsv(csv: string, options: Omit<CrmImportBody, 'csv'> = {}): Promise<CrmImportResult> {
    return this.transport.request('POST', `/crm/${this.path}/import`, { body: { csv, ...options } });
  }
}

/** Records a dialog can be attached to (CRM-3, OP-3). */
class LinkableCrmRecords<T, Create, Update> extends CrmRecords<T, Create, Update> {
  linkDialog(id: string, dialogId: string, confirmed?: boolean): Promise<void> {
    return this.transport.request('POST', `/crm/${this.path}/${segment(id)}/dialogs`, {
      body: { dialogId, ...(confirmed === undefined ? {} : { confirmed }) },
    });
  }

  unlinkDialog(id: string, dialogId: string): Promise<void> {
    return this.transport.request('DELETE', `/crm/${this.path}/${segment(id)}/dialogs/${segment(dialogId)}`);
  }

  activities(id: string): Promise<CrmActivity[]> {
    return this.transport.request('GET', `/crm/${this.path}/${segment(id)}/activities`);
  }

  /** One timeline session's transcript, oldest first, without private notes (CRM-3). */
  transcript(id: string, sessionId: string): Promise<Message[]> {
    return this.transport.request(
      'GET',
      `/crm/${this.path}/${segment(id)}/activities/${segment(sessionId)}/messages`,
    );
  }
}

/** Contacts: with merging of duplicates. */
class CrmContacts extends LinkableCrmRecords<CrmContact, CrmContactBody, UpdateCrmContactBody> {
  /** Merges `duplicateId` into the contact `id` (which survives); `take` names the fields to keep from the duplicate. */
  merge(id: string, input: MergeCrmContactsBody): Promise<CrmContact> {
    return this.transport.request('POST', `/crm/${this.path}/${segment(id)}/merge`, { body: input });
  }
}

/** Leads: with conversion into a contact, company and deal. */
class CrmLeads extends LinkableCrmRecords<CrmLead, CrmLeadBody, UpdateCrmLeadBody> {
  convert(id: string, input: ConvertCrmLeadBody = {}): Promise<CrmConversion> {
    return this.transport.request('POST', `/crm/${this.path}/${segment(id)}/convert`, { body: input });
  }
}

/** The built-in CRM (`/crm/*`). */
export class CrmApi {
  readonly contacts: CrmContacts;
  readonly companies: CrmRecords<CrmCompany, CrmCompanyBody, UpdateCrmCompanyBody>;
  readonly leads: CrmLeads;
  readonly deals: LinkableCrmRecords<CrmDeal, CrmDealBody, UpdateCrmDealBody>;

  constructor(private readonly transport: Transport) {
    this.contacts = new CrmContacts(transport, 'contacts');
    this.companies = new CrmRecords(transport, 'companies');
    this.leads = new CrmLeads(transport, 'leads');
    this.deals = new LinkableCrmRecords(transport, 'deals');
  }

  /** The client card's CRM block for a dialog (OP-2). */
  dialogCard(dialogId: string): Promise<CrmDialogCard> {
    return this.transport.request('GET', `/crm/dialogs/${segment(dialogId)}`);
  }

  pipelines(): Promise<CrmPipeline[]> {
    return this.transport.request('GET', '/crm/pipelines');
  }

  /** The account's CRM: built-in, or an external one's adapter (CRM-4; needs manageIntegrations). */
  adapter(): Promise<CrmAdapter> {
    return this.transport.request('GET', '/crm/adapter');
  }

  /** Chooses the built-in CRM or an external one (`rest`: base URL and API token). */
  setAdapter(input: CrmAdapterBody): Promise<CrmAdapter> {
    return this.transport.request('PUT', '/crm/adapter', { body: input });
  }

  createPipeline(input: CrmPipelineBody): Promise<CrmPipeline> {
    return this.transport.request('POST', '/crm/pipelines', { body: input });
  }

  updatePipeline(id: string, input: UpdateCrmPipelineBody): Promise<CrmPipeline> {
    return this.transport.request('PATCH', `/crm/pipelines/${segment(id)}`, { body: input });
  }

  deletePipeline(id: string): Promise<void> {
    return this.transport.request('DELETE', `/crm/pipelines/${segment(id)}`);
  }
}
