import type {
  CrmActivity,
  CrmCompany,
  CrmContact,
  CrmDeal,
  CrmLead,
  CrmLeadStatus,
  CrmListQuery,
  CrmPipeline,
} from '@openlines/contract';
import { OpenlinesError } from '@openlines/sdk';
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { formatDateTime } from '../lib/format';
import { useT } from '../lib/i18n';
import { linkClick, matchPath } from '../lib/router';
import { ErrorNotice } from '../ui/error-notice';
import { crmApi, stageName } from '../workspace/crm-card';
import { activeUserNames } from '../workspace/selectors';
import { useWorkspace } from '../workspace/store-context';

type Tab = 'contacts' | 'companies' | 'leads' | 'deals';
const TABS: Tab[] = ['contacts', 'companies', 'leads', 'deals'];
const STATUSES: CrmLeadStatus[] = ['new', 'in_progress', 'converted', 'junk'];
const listApi = (kind: 'contacts' | 'companies' | 'leads') =>
  kind === 'contacts' ? crmApi.contacts : kind === 'companies' ? crmApi.companies : crmApi.leads;

/** The CRM section (CRM-1): lists with search and pages, a deals board by stage, record pages. */
export function CrmSection({ path }: { path: string }) {
  const t = useT();
  const record = matchPath('/crm/:tab/:id', path);
  const tab = (TABS.find((name) => path.startsWith(`/crm/${name}`)) ?? 'contacts') as Tab;
  return (
    <div className="padded crm">
      <h1>{t('crm.title')}</h1>
      <nav className="tabs" aria-label={t('crm.title')}>
        {TABS.map((name) => (
          <a
            key={name}
            href={`/crm/${name}`}
            onClick={linkClick(`/crm/${name}`)}
            aria-current={tab === name ? 'page' : undefined}
          >
            {t(`crm.${name}`)}
          </a>
        ))}
      </nav>
      {record ? (
        <RecordPage kind={tab} id={record.id!} />
      ) : tab === 'deals' ? (
        <DealsBoard />
      ) : (
        <RecordList kind={tab} />
      )}
    </div>
  );
}

/** The list's filters as the API takes them (dates are whole days, local time). */
function filtersOf(
  search: string,
  responsibleId: string,
  status: string,
  from: string,
  to: string,
): CrmListQuery {
  const day = (value: string, plus = 0) => {
    const date = new Date(`${value}T00:00:00`);
    date.setDate(date.getDate() + plus);
    return date.toISOString();
  };
  return {
    ...(search.trim() ? { search: search.trim() } : {}),
    ...(responsibleId ? { responsibleId } : {}),
    ...(status ? { status: status as CrmLeadStatus } : {}),
    ...(from ? { createdFrom: day(from) } : {}),
    ...(to ? { createdTo: day(to, 1) } : {}),
  };
}

function RecordList({ kind }: { kind: 'contacts' | 'companies' | 'leads' }) {
  const t = useT();
  const users = useWorkspace(activeUserNames);
  const [search, setSearch] = useState('');
  const [responsibleId, setResponsibleId] = useState('');
  const [status, setStatus] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [report, setReport] = useState<string | null>(null);
  const [items, setItems] = useState<(CrmContact | CrmLead | CrmCompany)[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(
    async (cursor?: string) => {
      setError(null);
      try {
        const page = await listApi(kind).list({
          ...filtersOf(search, responsibleId, kind === 'leads' ? status : '', from, to),
          ...(cursor ? { cursor } : {}),
          limit: 25,
        });
        setItems((current) => (cursor ? [...current, ...page.items] : page.items));
        setNext(page.nextCursor);
      } catch (failure) {
        setError(failure);
      }
    },
    [kind, search, responsibleId, status, from, to],
  );
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new kind lists again; a search waits for submit
  useEffect(() => {
    void load();
  }, [kind]);
  function submit(event: FormEvent) {
    event.preventDefault();
    void load();
  }
  async function importFile(file: File) {
    setReport(null);
    setError(null);
    try {
      const result = await listApi(kind).importCsv(await file.text());
      setReport(t('crm.imported', { count: result.created }));
      void load();
    } catch (failure) {
      const rows =
        failure instanceof OpenlinesError
          ? (failure.problem.rows as { row: number; column: string; message: string }[] | undefined)
          : undefined;
      if (rows)
        setReport(
          [
            t('crm.importFailed'),
            ...rows.map((r) =>
              t('crm.importRow', { row: r.row, column: r.column || '—', message: r.message }),
            ),
          ].join('\n'),
        );
      else setError(failure);
    }
  }
  const exportHref = listApi(kind).exportUrl(
    filtersOf(search, responsibleId, kind === 'leads' ? status : '', from, to),
  );
  return (
    <>
      <form className="row-buttons crm-filters" onSubmit={submit} aria-label={t('crm.search')}>
        <label htmlFor="crm-search" className="visually-hidden">
          {t('crm.search')}
        </label>
        <input
          id="crm-search"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          placeholder={t('crm.search')}
        />
        <label>
          {t('crm.responsible')}{' '}
          <select value={responsibleId} onChange={(e) => setResponsibleId(e.target.value)}>
            <option value="">{t('crm.anyone')}</option>
            {Object.entries(users).map(([id, name]) => (
              <option key={id} value={id}>
                {name}
              </option>
            ))}
          </select>
        </label>
        {kind === 'leads' ? (
          <label>
            {t('crm.statusField')}{' '}
            <select value={status} onChange={(e) => setStatus(e.target.value)}>
              <option value="">{t('crm.anyStatus')}</option>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {t(`crm.status.${s}`)}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        <label>
          {t('crm.createdFrom')} <input type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        </label>
        <label>
          {t('crm.createdTo')} <input type="date" value={to} onChange={(e) => setTo(e.target.value)} />
        </label>
        <button type="submit">{t('crm.find')}</button>
      </form>
      <div className="row-buttons">
        <a className="button" href={exportHref} download={`${kind}.csv`}>
          {t('crm.export')}
        </a>
        <label className="button">
          {t('crm.import')}
          <input
            type="file"
            accept=".csv,text/csv"
            className="visually-hidden"
            onChange={(e) => {
              const file = e.target.files?.[0];
              e.target.value = '';
              if (file) void importFile(file);
            }}
          />
        </label>
      </div>
      {report ? (
        <pre className="crm-import-report" role="status">
          {report}
        </pre>
      ) : null}
      <ErrorNotice error={error} onDismiss={() => setError(null)} />
      {items.length === 0 ? (
        <p className="muted">{t('crm.empty')}</p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>{t(kind === 'leads' ? 'crm.titleField' : 'card.name')}</th>
              <th>
                {t(kind === 'contacts' ? 'crm.phones' : kind === 'leads' ? 'crm.statusField' : 'crm.notes')}
              </th>
              <th>{t('crm.source')}</th>
              <th>{t('crm.updated')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((item) => (
              <tr key={item.id}>
                <td>
                  <a href={`/crm/${kind}/${item.id}`} onClick={linkClick(`/crm/${kind}/${item.id}`)}>
                    {'name' in item ? item.name : item.title}
                  </a>
                </td>
                <td>
                  {'phones' in item
                    ? item.phones.join(', ') || '—'
                    : 'status' in item
                      ? t(`crm.status.${item.status}`)
                      : item.notes || '—'}
                </td>
                <td>{[item.sourceKind, item.source].filter(Boolean).join(' · ')}</td>
                <td>{formatDateTime(item.updatedAt, t.locale)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next ? (
        <button type="button" onClick={() => load(next)}>
          {t('crm.more')}
        </button>
      ) : null}
    </>
  );
}

/** Deals by stage of a pipeline; a deal moves with its stage menu (or by dragging it). */
function DealsBoard() {
  const t = useT();
  const [pipelines, setPipelines] = useState<CrmPipeline[]>([]);
  const [pipelineId, setPipelineId] = useState<string | null>(null);
  const [deals, setDeals] = useState<CrmDeal[]>([]);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(async () => {
    try {
      const list = await crmApi.pipelines();
      setPipelines(list);
      const chosen = pipelineId ?? list.find((p) => p.isDefault)?.id ?? list[0]?.id ?? null;
      setPipelineId(chosen);
      if (chosen) setDeals((await crmApi.deals.list({ pipelineId: chosen, limit: 200 })).items);
    } catch (failure) {
      setError(failure);
    }
  }, [pipelineId]);
  useEffect(() => {
    void load();
  }, [load]);
  async function move(deal: CrmDeal, stageId: string) {
    if (stageId === deal.stageId) return;
    try {
      const moved = await crmApi.deals.update(deal.id, { stageId });
      setDeals((current) => current.map((d) => (d.id === moved.id ? moved : d)));
    } catch (failure) {
      setError(failure);
    }
  }
  const pipeline = pipelines.find((p) => p.id === pipelineId);
  return (
    <>
      {pipelines.length > 1 ? (
        <select
          aria-label={t('crm.pipeline')}
          value={pipelineId ?? ''}
          onChange={(e) => setPipelineId(e.target.value)}
        >
          {pipelines.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </select>
      ) : null}
      <ErrorNotice error={error} onDismiss={() => setError(null)} />
      <section className="crm-board" aria-label={t('crm.board')}>
        {pipeline?.stages.map((stage) => (
          <section
            key={stage.id}
            className={`crm-column crm-column-${stage.semantics}`}
            aria-label={stage.name}
            onDragOver={(event) => event.preventDefault()}
            onDrop={(event) => {
              const deal = deals.find((d) => d.id === event.dataTransfer.getData('text/plain'));
              if (deal) void move(deal, stage.id);
            }}
          >
            <h2>
              {stage.name} <span className="muted">{deals.filter((d) => d.stageId === stage.id).length}</span>
            </h2>
            {deals
              .filter((d) => d.stageId === stage.id)
              .map((deal) => (
                <article
                  key={deal.id}
                  className="crm-deal"
                  draggable
                  onDragStart={(event) => event.dataTransfer.setData('text/plain', deal.id)}
                >
                  <a href={`/crm/deals/${deal.id}`} onClick={linkClick(`/crm/deals/${deal.id}`)}>
                    {deal.title}
                  </a>
                  <select
                    aria-label={t('crm.moveNamed', { title: deal.title })}
                    value={deal.stageId}
                    onChange={(e) => move(deal, e.target.value)}
                  >
                    {pipeline.stages.map((s) => (
                      <option key={s.id} value={s.id}>
                        {s.name}
                      </option>
                    ))}
                  </select>
                </article>
              ))}
          </section>
        ))}
      </section>
    </>
  );
}

/** A record's page: its fields and its timeline of sessions, each opening its dialog (CRM-3). */
function RecordPage({ kind, id }: { kind: Tab; id: string }) {
  if (kind === 'companies') return <CompanyPage id={id} />;
  return <LinkableRecordPage kind={kind} id={id} />;
}

/** A company's page: its name and notes, edited in place. */
function CompanyPage({ id }: { id: string }) {
  const t = useT();
  const [company, setCompany] = useState<CrmCompany | null>(null);
  const [name, setName] = useState('');
  const [notes, setNotes] = useState('');
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    crmApi.companies.get(id).then((found) => {
      setCompany(found);
      setName(found.name);
      setNotes(found.notes);
    }, setError);
  }, [id]);
  async function save(event: FormEvent) {
    event.preventDefault();
    setSaved(false);
    setError(null);
    try {
      const updated = await crmApi.companies.update(id, { name, notes });
      setCompany(updated);
      setSaved(true);
    } catch (failure) {
      setError(failure);
    }
  }
  if (!company) return error ? <ErrorNotice error={error} /> : <p className="muted">{t('common.loading')}</p>;
  return (
    <article className="crm-record">
      <h2>{company.name}</h2>
      <form className="stack" onSubmit={save} aria-label={t('crm.editCompany')}>
        <label>
          {t('card.name')}
          <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} />
        </label>
        <label>
          {t('crm.notes')}
          <textarea value={notes} onChange={(e) => setNotes(e.target.value)} maxLength={5000} rows={4} />
        </label>
        <div className="row-buttons">
          <button type="submit">{t('crm.save')}</button>
          {saved ? <span role="status">{t('crm.saved')}</span> : null}
        </div>
      </form>
      <ErrorNotice error={error} onDismiss={() => setError(null)} />
    </article>
  );
}

/** Converting a lead (Bitrix24): into its contact (or a new one), a new company if named, and a deal. */
function ConvertLead({ lead, onConverted }: { lead: CrmLead; onConverted: (lead: CrmLead) => void }) {
  const t = useT();
  const [companyName, setCompanyName] = useState('');
  const [dealId, setDealId] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  if (lead.status === 'converted' || lead.status === 'junk')
    return dealId ? (
      <p role="status">
        <a href={`/crm/deals/${dealId}`} onClick={linkClick(`/crm/deals/${dealId}`)}>
          {t('crm.openDeal')}
        </a>
      </p>
    ) : null;
  async function convert(event: FormEvent) {
    event.preventDefault();
    setError(null);
    try {
      const result = await crmApi.leads.convert(
        lead.id,
        companyName.trim() ? { companyName: companyName.trim() } : {},
      );
      setDealId(result.deal?.id ?? null);
      onConverted(result.lead);
    } catch (failure) {
      setError(failure);
    }
  }
  return (
    <form className="row-buttons" onSubmit={convert} aria-label={t('crm.convert')}>
      <label>
        {t('crm.newCompany')}{' '}
        <input value={companyName} onChange={(e) => setCompanyName(e.target.value)} maxLength={200} />
      </label>
      <button type="submit">{t('crm.convert')}</button>
      <ErrorNotice error={error} onDismiss={() => setError(null)} />
    </form>
  );
}

function LinkableRecordPage({ kind, id }: { kind: 'contacts' | 'leads' | 'deals'; id: string }) {
  const t = useT();
  const [record, setRecord] = useState<CrmContact | CrmLead | CrmDeal | null>(null);
  const [activities, setActivities] = useState<CrmActivity[]>([]);
  const [pipelines, setPipelines] = useState<CrmPipeline[]>([]);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const api = kind === 'contacts' ? crmApi.contacts : kind === 'leads' ? crmApi.leads : crmApi.deals;
    Promise.all([api.get(id), api.activities(id), crmApi.pipelines()]).then(([found, timeline, list]) => {
      setRecord(found);
      setActivities(timeline);
      setPipelines(list);
    }, setError);
  }, [kind, id]);
  if (!record) return error ? <ErrorNotice error={error} /> : <p className="muted">{t('common.loading')}</p>;
  return (
    <article className="crm-record">
      <h2>{'name' in record ? record.name : record.title}</h2>
      <dl className="facts">
        {'phones' in record ? (
          <>
            <dt>{t('crm.phones')}</dt>
            <dd>{record.phones.join(', ') || '—'}</dd>
            <dt>{t('crm.emails')}</dt>
            <dd>{record.emails.join(', ') || '—'}</dd>
          </>
        ) : null}
        {'status' in record ? (
          <>
            <dt>{t('crm.statusField')}</dt>
            <dd>{t(`crm.status.${record.status}`)}</dd>
          </>
        ) : null}
        {'stageId' in record ? (
          <>
            <dt>{t('crm.stage')}</dt>
            <dd>{stageName(pipelines, record.stageId)}</dd>
          </>
        ) : null}
        <dt>{t('crm.source')}</dt>
        <dd>{[record.sourceKind, record.source].filter(Boolean).join(' · ')}</dd>
        <dt>{t('crm.created')}</dt>
        <dd>{formatDateTime(record.createdAt, t.locale)}</dd>
        {'consentMissing' in record && record.consentMissing ? (
          <>
            <dt>{t('crm.consent')}</dt>
            <dd className="chip chip-warn">{t('crm.consentMissing')}</dd>
          </>
        ) : null}
      </dl>
      {kind === 'leads' && 'status' in record ? (
        <ConvertLead lead={record} onConverted={(lead) => setRecord(lead)} />
      ) : null}
      <h3>{t('crm.timeline')}</h3>
      {activities.length === 0 ? (
        <p className="muted">{t('crm.noActivity')}</p>
      ) : (
        <ul className="plain crm-timeline">
          {activities.map((activity) => (
            <li key={activity.sessionId}>
              <a href={`/dialogs/${activity.dialogId}`} onClick={linkClick(`/dialogs/${activity.dialogId}`)}>
                {t('crm.session', { at: formatDateTime(activity.createdAt, t.locale) })}
              </a>{' '}
              <span className="chip">{t(`status.${activity.status}` as 'status.closed')}</span>
            </li>
          ))}
        </ul>
      )}
    </article>
  );
}
