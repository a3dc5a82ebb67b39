import type {
  CrmActivity,
  CrmCompany,
  CrmContact,
  CrmDeal,
  CrmLead,
  CrmLeadStatus,
  CrmMergeField,
  CrmPipeline,
  Message,
} from '@openlines/contract';
import { OpenlinesError } from '@openlines/sdk';
import { type FormEvent, useEffect, useState } from 'react';
import { channelKinds } from '../lib/api';
import {
  type CrmListFilters,
  crmListQuery,
  crmSourceKinds,
  type MergeRow,
  mergeProblem,
  mergeRows,
  mergeTake,
  NO_CRM_FILTERS,
  sourceKindLabel,
} from '../lib/crm';
import { formatDateTime } from '../lib/format';
import { type Translate, useT } from '../lib/i18n';
import { linkClick, matchPath, navigate } from '../lib/router';
import { ErrorNotice } from '../ui/error-notice';
import { crmApi, PipelineOptions, stageName } from '../workspace/crm-card';
import { activeUserNames, userNames } from '../workspace/selectors';
import { useWorkspace } from '../workspace/store-context';

type Tab = 'contacts' | 'companies' | 'leads' | 'deals';
const TABS: Tab[] = ['contacts', 'companies', 'leads', 'deals'];
const STATUSES: CrmLeadStatus[] = ['new', 'in_progress', 'converted', 'junk'];
type ListKind = 'contacts' | 'companies' | 'leads' | 'deals';
const listApi = (kind: ListKind) =>
  kind === 'contacts'
    ? crmApi.contacts
    : kind === 'companies'
      ? crmApi.companies
      : kind === 'leads'
        ? crmApi.leads
        : crmApi.deals;

/** A record's source: its kind as people call it, and the CRM_SOURCE name. */
function sourceOf(t: Translate, record: { sourceKind: string; source: string }): string {
  return [sourceKindLabel(t, record.sourceKind), record.source].filter(Boolean).join(' · ');
}

let sourceKindsOnce: Promise<string[]> | null = null;
/** The source kinds to filter by (the server's channel kinds are asked once). */
function useSourceKinds(): string[] {
  const [kinds, setKinds] = useState<string[]>(() => crmSourceKinds([]));
  useEffect(() => {
    sourceKindsOnce ??= channelKinds().catch(() => []);
    let live = true;
    sourceKindsOnce.then((found) => live && setKinds(crmSourceKinds(found)));
    return () => {
      live = false;
    };
  }, []);
  return kinds;
}

/** The CRM section (CRM-1): lists with search and pages, a deals board by stage, record pages. */
export function CrmSection({ path }: { path: string }) {
  const t = useT();
  const record = matchPath('/crm/:tab/:id', path);
  const picking = matchPath('/crm/contacts/:id/merge', path);
  const merging = matchPath('/crm/contacts/:id/merge/:duplicateId', path);
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
      {merging ? (
        <MergeScreen survivorId={merging.id!} duplicateId={merging.duplicateId!} />
      ) : picking ? (
        <MergePicker survivorId={picking.id!} />
      ) : record ? (
        <RecordPage kind={tab} id={record.id!} />
      ) : tab === 'deals' ? (
        <DealsSection />
      ) : (
        <RecordList kind={tab} />
      )}
    </div>
  );
}

/**
 * A list of records with search, filters (responsible, source, status / pipeline and stage,
 * period), "Show more" pages and CSV export / import. Deals come with their pipelines.
 */
function RecordList({ kind, pipelines = [] }: { kind: ListKind; pipelines?: CrmPipeline[] }) {
  const t = useT();
  const users = useWorkspace(activeUserNames);
  const sourceKinds = useSourceKinds();
  const [filters, setFilters] = useState<CrmListFilters>(NO_CRM_FILTERS);
  const set = (patch: Partial<CrmListFilters>) => setFilters((current) => ({ ...current, ...patch }));
  const [report, setReport] = useState<string | null>(null);
  const [items, setItems] = useState<(CrmContact | CrmLead | CrmCompany | CrmDeal)[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  // Only the filters a kind has go to the API.
  const query = crmListQuery({
    ...filters,
    status: kind === 'leads' ? filters.status : '',
    pipelineId: kind === 'deals' ? filters.pipelineId : '',
    stageId: kind === 'deals' ? filters.stageId : '',
  });
  async function load(cursor?: string) {
    setError(null);
    try {
      const page = await listApi(kind).list({ ...query, ...(cursor ? { cursor } : {}), limit: 25 });
      setItems((current) => (cursor ? [...current, ...page.items] : page.items));
      setNext(page.nextCursor);
    } catch (failure) {
      setError(failure);
    }
  }
  // A new kind lists again without filters; a search waits for submit.
  useEffect(() => {
    setFilters(NO_CRM_FILTERS);
    void listApi(kind)
      .list({ limit: 25 })
      .then((page) => {
        setItems(page.items);
        setNext(page.nextCursor);
      }, setError);
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
  const { cursor: _cursor, limit: _limit, ...exportQuery } = query;
  const exportHref = listApi(kind).exportUrl(exportQuery);
  const stages = (
    filters.pipelineId ? pipelines.filter((p) => p.id === filters.pipelineId) : pipelines
  ).flatMap((p) =>
    p.stages.map((stage) => ({
      ...stage,
      label: pipelines.length > 1 ? `${p.name}: ${stage.name}` : stage.name,
    })),
  );
  return (
    <>
      <form className="row-buttons crm-filters" onSubmit={submit} aria-label={t('crm.search')}>
        <label htmlFor="crm-search" className="visually-hidden">
          {t('crm.search')}
        </label>
        <input
          id="crm-search"
          value={filters.search}
          onChange={(e) => set({ search: e.target.value })}
          placeholder={t('crm.search')}
        />
        <label>
          {t('crm.responsible')}{' '}
          <select value={filters.responsibleId} onChange={(e) => set({ responsibleId: e.target.value })}>
            <option value="">{t('crm.anyone')}</option>
            {Object.entries(users).map(([id, name]) => (
              <option key={id} value={id}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('crm.source')}{' '}
          <select value={filters.sourceKind} onChange={(e) => set({ sourceKind: e.target.value })}>
            <option value="">{t('crm.anySource')}</option>
            {sourceKinds.map((source) => (
              <option key={source} value={source}>
                {sourceKindLabel(t, source)}
              </option>
            ))}
          </select>
        </label>
        {kind === 'leads' ? (
          <label>
            {t('crm.statusField')}{' '}
            <select value={filters.status} onChange={(e) => set({ status: e.target.value })}>
              <option value="">{t('crm.anyStatus')}</option>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {t(`crm.status.${s}`)}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        {kind === 'deals' && pipelines.length > 1 ? (
          <label>
            {t('crm.pipeline')}{' '}
            <select
              value={filters.pipelineId}
              onChange={(e) => set({ pipelineId: e.target.value, stageId: '' })}
            >
              <option value="">{t('crm.anyPipeline')}</option>
              <PipelineOptions pipelines={pipelines} />
            </select>
          </label>
        ) : null}
        {kind === 'deals' ? (
          <label>
            {t('crm.stage')}{' '}
            <select value={filters.stageId} onChange={(e) => set({ stageId: e.target.value })}>
              <option value="">{t('crm.anyStage')}</option>
              {stages.map((stage) => (
                <option key={stage.id} value={stage.id}>
                  {stage.label}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        <label>
          {t('crm.createdFrom')}{' '}
          <input type="date" value={filters.from} onChange={(e) => set({ from: e.target.value })} />
        </label>
        <label>
          {t('crm.createdTo')}{' '}
          <input type="date" value={filters.to} onChange={(e) => set({ to: e.target.value })} />
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
              <th>{t(kind === 'leads' || kind === 'deals' ? 'crm.titleField' : 'card.name')}</th>
              <th>
                {t(
                  kind === 'contacts'
                    ? 'crm.phones'
                    : kind === 'leads'
                      ? 'crm.statusField'
                      : kind === 'deals'
                        ? 'crm.stage'
                        : 'crm.notes',
                )}
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
                    : 'stageId' in item
                      ? stageName(pipelines, item.stageId)
                      : 'status' in item
                        ? t(`crm.status.${item.status}`)
                        : item.notes || '—'}
                </td>
                <td>{sourceOf(t, item)}</td>
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

/**
 * The deals: a board by stage or a list (with the other lists' filters and pages), and a new
 * deal's form that asks for its pipeline when there are several.
 */
function DealsSection() {
  const t = useT();
  const [view, setView] = useState<'board' | 'list'>('board');
  const [pipelines, setPipelines] = useState<CrmPipeline[]>([]);
  const [pipelineId, setPipelineId] = useState('');
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    crmApi.pipelines().then((list) => {
      setPipelines(list);
      setPipelineId((current) => current || (list.find((p) => p.isDefault) ?? list[0])?.id || '');
    }, setError);
  }, []);
  return (
    <>
      <div className="row-buttons crm-deals-bar">
        <fieldset className="crm-view">
          <legend className="visually-hidden">{t('crm.view')}</legend>
          {(['board', 'list'] as const).map((name) => (
            <button key={name} type="button" aria-pressed={view === name} onClick={() => setView(name)}>
              {t(name === 'board' ? 'crm.viewBoard' : 'crm.viewList')}
            </button>
          ))}
        </fieldset>
        {view === 'board' && pipelines.length > 1 ? (
          <label>
            {t('crm.pipeline')}{' '}
            <select value={pipelineId} onChange={(e) => setPipelineId(e.target.value)}>
              <PipelineOptions pipelines={pipelines} />
            </select>
          </label>
        ) : null}
      </div>
      <NewDeal pipelines={pipelines} preferred={pipelineId} />
      <ErrorNotice error={error} onDismiss={() => setError(null)} />
      {view === 'board' ? (
        <DealsBoard pipeline={pipelines.find((p) => p.id === pipelineId)} />
      ) : (
        <RecordList kind="deals" pipelines={pipelines} />
      )}
    </>
  );
}

/** A new deal by hand: its title and, when there are several, its pipeline; it opens when made. */
function NewDeal({ pipelines, preferred }: { pipelines: CrmPipeline[]; preferred: string }) {
  const t = useT();
  const [title, setTitle] = useState('');
  const [pipelineId, setPipelineId] = useState('');
  const [error, setError] = useState<unknown>(null);
  const chosen = pipelineId || preferred;
  async function add(event: FormEvent) {
    event.preventDefault();
    setError(null);
    try {
      const deal = await crmApi.deals.create({
        title: title.trim(),
        ...(chosen ? { pipelineId: chosen } : {}),
      });
      navigate(`/crm/deals/${deal.id}`);
    } catch (failure) {
      setError(failure);
    }
  }
  return (
    <form className="row-buttons crm-new-deal" onSubmit={add} aria-label={t('crm.newDeal')}>
      <label>
        {t('crm.newDealTitle')}{' '}
        <input value={title} onChange={(e) => setTitle(e.target.value)} required maxLength={200} />
      </label>
      {pipelines.length > 1 ? (
        <label>
          {t('crm.dealPipeline')}{' '}
          <select value={chosen} onChange={(e) => setPipelineId(e.target.value)}>
            <PipelineOptions pipelines={pipelines} />
          </select>
        </label>
      ) : null}
      <button type="submit">{t('crm.addDeal')}</button>
      <ErrorNotice error={error} onDismiss={() => setError(null)} />
    </form>
  );
}

/** Deals by stage of a pipeline; a deal moves with its stage menu (or by dragging it). */
function DealsBoard({ pipeline }: { pipeline: CrmPipeline | undefined }) {
  const t = useT();
  const [deals, setDeals] = useState<CrmDeal[]>([]);
  const [error, setError] = useState<unknown>(null);
  const pipelineId = pipeline?.id;
  useEffect(() => {
    if (!pipelineId) return;
    crmApi.deals.list({ pipelineId, limit: 200 }).then((page) => setDeals(page.items), setError);
  }, [pipelineId]);
  async function move(deal: CrmDeal, stageId: string) {
    if (stageId === deal.stageId) return;
    try {
      const moved = await crmApi.deals.update(deal.id, { stageId });
      setDeals((current) => current.map((d) => (d.id === moved.id ? moved : d)));
    } catch (failure) {
      setError(failure);
    }
  }
  return (
    <>
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
  // A merge lands here with `?merged=1` (MergeScreen).
  const [merged] = useState(() => new URLSearchParams(window.location.search).has('merged'));
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
      {merged ? <p role="status">{t('crm.merged')}</p> : null}
      {kind === 'contacts' ? (
        <p>
          <a href={`/crm/contacts/${id}/merge`} onClick={linkClick(`/crm/contacts/${id}/merge`)}>
            {t('crm.mergeWith')}
          </a>
        </p>
      ) : null}
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
        {'pipelineId' in record ? (
          <>
            <dt>{t('crm.pipeline')}</dt>
            <dd>{pipelines.find((p) => p.id === record.pipelineId)?.name ?? '—'}</dd>
          </>
        ) : null}
        {'stageId' in record ? (
          <>
            <dt>{t('crm.stage')}</dt>
            <dd>{stageName(pipelines, record.stageId)}</dd>
          </>
        ) : null}
        <dt>{t('crm.source')}</dt>
        <dd>{sourceOf(t, record)}</dd>
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
            <ActivityItem key={activity.sessionId} kind={kind} recordId={id} activity={activity} />
          ))}
        </ul>
      )}
    </article>
  );
}

const recordApi = (kind: 'contacts' | 'leads' | 'deals') =>
  kind === 'contacts' ? crmApi.contacts : kind === 'leads' ? crmApi.leads : crmApi.deals;

/**
 * One session on a record's timeline (CRM-3): its operator, times and rating, the link to its
 * dialog, and its transcript, read when the operator opens it. Texts are rendered as text.
 */
function ActivityItem({
  kind,
  recordId,
  activity,
}: {
  kind: 'contacts' | 'leads' | 'deals';
  recordId: string;
  activity: CrmActivity;
}) {
  const t = useT();
  const names = useWorkspace(userNames);
  const [messages, setMessages] = useState<Message[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const from = formatDateTime(activity.createdAt, t.locale);
  const operator = activity.operatorId
    ? (names[activity.operatorId] ?? t('dialog.operatorUnknown'))
    : t('crm.noOperator');
  function open(shown: boolean) {
    if (!shown || messages) return;
    recordApi(kind).transcript(recordId, activity.sessionId).then(setMessages, setError);
  }
  const author = (message: Message) =>
    message.authorKind === 'operator'
      ? message.authorId
        ? (names[message.authorId] ?? t('dialog.operatorUnknown'))
        : t('author.operator')
      : t(`author.${message.authorKind}`);
  return (
    <li className="crm-activity">
      <div className="row-buttons">
        <a href={`/dialogs/${activity.dialogId}`} onClick={linkClick(`/dialogs/${activity.dialogId}`)}>
          {t('crm.session', { at: from })}
        </a>
        <span className="chip">{t(`status.${activity.status}` as 'status.closed')}</span>
        <span>
          {t('author.operator')}: {operator}
        </span>
        <span className="muted">
          {activity.closedAt
            ? t('crm.activityTimes', { from, to: formatDateTime(activity.closedAt, t.locale) })
            : t('crm.activityOpen', { from })}
        </span>
        <span>
          {t('card.rating')}:{' '}
          {activity.rating === 'like'
            ? t('card.like')
            : activity.rating === 'dislike'
              ? t('card.dislike')
              : t('crm.notRated')}
        </span>
      </div>
      <details onToggle={(event) => open(event.currentTarget.open)}>
        <summary>{t('crm.transcript')}</summary>
        <ErrorNotice error={error} onDismiss={() => setError(null)} />
        {messages === null ? (
          error ? null : (
            <p className="muted">{t('common.loading')}</p>
          )
        ) : messages.length === 0 ? (
          <p className="muted">{t('crm.noMessages')}</p>
        ) : (
          <ol className="plain crm-transcript">
            {messages.map((message) => (
              <li key={message.id} className={`crm-transcript-${message.authorKind}`}>
                <span className="crm-transcript-who">
                  {author(message)} · {formatDateTime(message.createdAt, t.locale)}
                </span>
                <span className="crm-transcript-text">
                  {message.deletedAt
                    ? t('dialog.deleted')
                    : [message.text ?? '', ...message.attachments.map((a) => `📎 ${a.name}`)]
                        .filter(Boolean)
                        .join('\n')}
                </span>
              </li>
            ))}
          </ol>
        )}
        <a href={`/dialogs/${activity.dialogId}`} onClick={linkClick(`/dialogs/${activity.dialogId}`)}>
          {t('crm.openDialog')}
        </a>
      </details>
    </li>
  );
}

/** Merging, step 1: find the duplicate of a contact by name, phone or e-mail. */
function MergePicker({ survivorId }: { survivorId: string }) {
  const t = useT();
  const [survivor, setSurvivor] = useState<CrmContact | null>(null);
  const [search, setSearch] = useState('');
  const [found, setFound] = useState<CrmContact[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    crmApi.contacts.get(survivorId).then(setSurvivor, setError);
  }, [survivorId]);
  async function find(event: FormEvent) {
    event.preventDefault();
    setError(null);
    try {
      const page = await crmApi.contacts.list({ ...crmListQuery({ ...NO_CRM_FILTERS, search }), limit: 10 });
      setFound(page.items.filter((contact) => contact.id !== survivorId));
    } catch (failure) {
      setError(failure);
    }
  }
  if (!survivor)
    return error ? <ErrorNotice error={error} /> : <p className="muted">{t('common.loading')}</p>;
  return (
    <article className="crm-record">
      <h2>{t('crm.mergeTitle', { name: survivor.name })}</h2>
      <form className="row-buttons" onSubmit={find} aria-label={t('crm.mergeWith')}>
        <label>
          {t('crm.mergeFind')}{' '}
          <input value={search} onChange={(e) => setSearch(e.target.value)} maxLength={200} />
        </label>
        <button type="submit">{t('crm.find')}</button>
      </form>
      <ErrorNotice error={error} onDismiss={() => setError(null)} />
      {found === null ? null : found.length === 0 ? (
        <p className="muted">{t('crm.mergeNone')}</p>
      ) : (
        <ul className="plain crm-links">
          {found.map((contact) => {
            const to = `/crm/contacts/${survivorId}/merge/${contact.id}`;
            return (
              <li key={contact.id}>
                {contact.name}{' '}
                <span className="muted">{[...contact.phones, ...contact.emails].join(', ')}</span>{' '}
                <a href={to} onClick={linkClick(to)} aria-label={`${t('crm.mergePick')}: ${contact.name}`}>
                  {t('crm.mergePick')}
                </a>
              </li>
            );
          })}
        </ul>
      )}
      <p>
        <a href={`/crm/contacts/${survivorId}`} onClick={linkClick(`/crm/contacts/${survivorId}`)}>
          {t('common.cancel')}
        </a>
      </p>
    </article>
  );
}

/**
 * Merging, step 2: both contacts side by side; where both have a different value the user picks
 * the one to keep (the API's `take`); confirming opens the survivor's page.
 */
function MergeScreen({ survivorId, duplicateId }: { survivorId: string; duplicateId: string }) {
  const t = useT();
  const names = useWorkspace(userNames);
  const [pair, setPair] = useState<[CrmContact, CrmContact] | null>(null);
  const [companies, setCompanies] = useState<Record<string, string>>({});
  const [chosen, setChosen] = useState<Partial<Record<CrmMergeField, 'survivor' | 'duplicate'>>>({});
  const [problem, setProblem] = useState<'self' | 'missing' | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    setPair(null);
    setProblem(null);
    setError(null);
    setChosen({});
    if (survivorId === duplicateId) {
      setProblem('self');
      return;
    }
    Promise.all([
      crmApi.contacts.get(survivorId),
      crmApi.contacts.get(duplicateId).catch((failure: unknown) => {
        if (failure instanceof OpenlinesError && failure.status === 404) return null;
        throw failure;
      }),
    ]).then(async ([survivor, duplicate]) => {
      if (!duplicate) {
        setProblem('missing');
        return;
      }
      setPair([survivor, duplicate]);
      const ids = [survivor.companyId, duplicate.companyId].filter((value): value is string => !!value);
      const found = await Promise.all(ids.map((id) => crmApi.companies.get(id).catch(() => null)));
      setCompanies(Object.fromEntries(found.filter((c) => c !== null).map((c) => [c.id, c.name])));
    }, setError);
  }, [survivorId, duplicateId]);
  const pick = `/crm/contacts/${survivorId}/merge`;
  const again = (
    <p>
      <a href={pick} onClick={linkClick(pick)}>
        {t('crm.mergeOther')}
      </a>
    </p>
  );
  if (problem)
    return (
      <article className="crm-record">
        <p className="notice notice-error" role="alert">
          {t(problem === 'self' ? 'crm.mergeSelf' : 'crm.mergeMissing')}
        </p>
        {again}
      </article>
    );
  if (!pair) return error ? <ErrorNotice error={error} /> : <p className="muted">{t('common.loading')}</p>;
  const [survivor, duplicate] = pair;
  const rows = mergeRows(survivor, duplicate);
  const shown = (row: MergeRow, value: string | null) =>
    value === null
      ? '—'
      : row.field === 'companyId'
        ? (companies[value] ?? value)
        : row.field === 'responsibleId'
          ? (names[value] ?? t('dialog.operatorUnknown'))
          : value;
  async function merge(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await crmApi.contacts.merge(survivorId, { duplicateId, take: mergeTake(rows, chosen) });
      navigate(`/crm/contacts/${survivorId}?merged=1`);
    } catch (failure) {
      const why = mergeProblem(failure, survivorId, duplicateId);
      if (why) setProblem(why);
      else setError(failure);
    } finally {
      setBusy(false);
    }
  }
  const side = (row: MergeRow, which: 'survivor' | 'duplicate') => {
    const value = row[which];
    const label = t(which === 'survivor' ? 'crm.mergeThis' : 'crm.mergeDuplicate');
    if (!row.choice) return <td className={value === null ? 'muted' : undefined}>{shown(row, value)}</td>;
    return (
      <td>
        <label>
          <input
            type="radio"
            name={`merge-${row.field}`}
            checked={(chosen[row.field] ?? 'survivor') === which}
            onChange={() => setChosen((current) => ({ ...current, [row.field]: which }))}
            aria-label={t('crm.mergeKeep', { field: t(`crm.field.${row.field}`), which: label })}
          />{' '}
          {shown(row, value)}
        </label>
      </td>
    );
  };
  const list = (contact: CrmContact) => [...contact.phones, ...contact.emails].join(', ') || '—';
  return (
    <article className="crm-record">
      <h2>{t('crm.mergeTitle', { name: survivor.name })}</h2>
      <p>{t('crm.mergeExplain', { name: survivor.name })}</p>
      <form onSubmit={merge} aria-label={t('crm.mergeTitle', { name: survivor.name })}>
        <table className="table crm-merge">
          <thead>
            <tr>
              <th scope="col">{t('crm.mergeField')}</th>
              <th scope="col">{t('crm.mergeThis')}</th>
              <th scope="col">{t('crm.mergeDuplicate')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.field}>
                <th scope="row">{t(`crm.field.${row.field}`)}</th>
                {side(row, 'survivor')}
                {side(row, 'duplicate')}
              </tr>
            ))}
            <tr>
              <th scope="row">
                {t('crm.phones')}, {t('crm.emails')}
              </th>
              <td>{list(survivor)}</td>
              <td>{list(duplicate)}</td>
            </tr>
          </tbody>
        </table>
        <ErrorNotice error={error} onDismiss={() => setError(null)} />
        <div className="row-buttons">
          <button type="submit" className="danger" disabled={busy}>
            {t('crm.mergeConfirm')}
          </button>
          <a href={pick} onClick={linkClick(pick)}>
            {t('crm.mergeOther')}
          </a>
        </div>
      </form>
    </article>
  );
}
