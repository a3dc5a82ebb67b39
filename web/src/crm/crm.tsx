import type { CrmActivity, CrmContact, CrmDeal, CrmLead, CrmPipeline } from '@openlines/contract';
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { formatDateTime } from '../lib/format';
import { useT } from '../lib/i18n';
import { linkClick, matchPath } from '../lib/router';
import { ErrorNotice } from '../ui/error-notice';
import { crmApi, stageName } from '../workspace/crm-card';

type Tab = 'contacts' | 'leads' | 'deals';
const TABS: Tab[] = ['contacts', 'leads', 'deals'];

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

function RecordList({ kind }: { kind: 'contacts' | 'leads' }) {
  const t = useT();
  const [search, setSearch] = useState('');
  const [items, setItems] = useState<(CrmContact | CrmLead)[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(
    async (cursor?: string) => {
      setError(null);
      try {
        const api = kind === 'contacts' ? crmApi.contacts : crmApi.leads;
        const page = await api.list({
          ...(search.trim() ? { search: search.trim() } : {}),
          ...(cursor ? { cursor } : {}),
          limit: 25,
        });
        setItems((current) => (cursor ? [...current, ...page.items] : page.items));
        setNext(page.nextCursor);
      } catch (failure) {
        setError(failure);
      }
    },
    [kind, search],
  );
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new kind lists again; a search waits for submit
  useEffect(() => {
    void load();
  }, [kind]);
  function submit(event: FormEvent) {
    event.preventDefault();
    void load();
  }
  return (
    <>
      <form className="row-buttons" onSubmit={submit} aria-label={t('crm.search')}>
        <label htmlFor="crm-search" className="visually-hidden">
          {t('crm.search')}
        </label>
        <input
          id="crm-search"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          placeholder={t('crm.search')}
        />
        <button type="submit">{t('crm.find')}</button>
      </form>
      <ErrorNotice error={error} onDismiss={() => setError(null)} />
      {items.length === 0 ? (
        <p className="muted">{t('crm.empty')}</p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>{t(kind === 'contacts' ? 'card.name' : 'crm.titleField')}</th>
              <th>{t(kind === 'contacts' ? 'crm.phones' : 'crm.statusField')}</th>
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
                <td>{'phones' in item ? item.phones.join(', ') || '—' : t(`crm.status.${item.status}`)}</td>
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
