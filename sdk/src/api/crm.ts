import type {
  CrmActivity,
  CrmCompany,
  CrmCompanyBody,
  CrmContact,
  CrmContactBody,
  CrmDeal,
  CrmDealBody,
  CrmDialogCard,
  CrmLead,
  CrmLeadBody,
  CrmListQuery,
  CrmPipeline,
  CrmPipelineBody,
  UpdateCrmCompanyBody,
  UpdateCrmContactBody,
  UpdateCrmDealBody,
  UpdateCrmLeadBody,
  UpdateCrmPipelineBody,
} from '@openlines/contract';
import { segment, type Transport } from '../transport';

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
}

/** The built-in CRM (`/crm/*`). */
export class CrmApi {
  readonly contacts: LinkableCrmRecords<CrmContact, CrmContactBody, UpdateCrmContactBody>;
  readonly companies: CrmRecords<CrmCompany, CrmCompanyBody, UpdateCrmCompanyBody>;
  readonly leads: LinkableCrmRecords<CrmLead, CrmLeadBody, UpdateCrmLeadBody>;
  readonly deals: LinkableCrmRecords<CrmDeal, CrmDealBody, UpdateCrmDealBody>;

  constructor(private readonly transport: Transport) {
    this.contacts = new LinkableCrmRecords(transport, 'contacts');
    this.companies = new CrmRecords(transport, 'companies');
    this.leads = new LinkableCrmRecords(transport, 'leads');
    this.deals = new LinkableCrmRecords(transport, 'deals');
  }

  /** The client card's CRM block for a dialog (OP-2). */
  dialogCard(dialogId: string): Promise<CrmDialogCard> {
    return this.transport.request('GET', `/crm/dialogs/${segment(dialogId)}`);
  }

  pipelines(): Promise<CrmPipeline[]> {
    return this.transport.request('GET', '/crm/pipelines');
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
