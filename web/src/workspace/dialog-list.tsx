import {
  type Dialog,
  type Line,
  SESSION_STATUSES,
  type SearchHit,
  type SessionStatus,
} from '@openlines/contract';
import { type KeyboardEvent, useEffect, useMemo, useRef, useState } from 'react';
import {
  type DialogFilters,
  type DialogView,
  type KpiState,
  liveKpiState,
  waitingSince,
} from '../lib/dialogs';
import { dayKey, formatDuration } from '../lib/format';
import { useT } from '../lib/i18n';
import { linkClick } from '../lib/router';
import { knownTags, sortTags } from '../lib/tags';
import { Badge } from '../ui/badge';
import { ErrorNotice } from '../ui/error-notice';
import { activeUserNames, listSlice, shallowEqual, userNames } from './selectors';
import { useStore, useWorkspace } from './store-context';
import { useNow } from './use-now';

const VIEWS: DialogView[] = ['queue', 'mine', 'all'];

export function DialogList({ openId }: { openId: string | null }) {
  const t = useT();
  const store = useStore();
  const state = useWorkspace(listSlice, shallowEqual);
  const names = useWorkspace(userNames);
  const now = useNow();
  const { dialogs: all, view: current, filters } = state;
  const dialogs = useMemo(
    () => store.visibleDialogs({ dialogs: all, view: current, filters }),
    [store, all, current, filters],
  );
  const counts = useMemo(() => store.counts({ dialogs: all }), [store, all]);
  const [showFilters, setShowFilters] = useState(false);
  const lineById = useMemo(() => new Map(state.lines.map((line) => [line.id, line])), [state.lines]);
  const tabRefs = useRef<(HTMLButtonElement | null)[]>([]);

  function onTabKey(event: KeyboardEvent, index: number) {
    const delta = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (!delta) return;
    event.preventDefault();
    const next = (index + delta + VIEWS.length) % VIEWS.length;
    store.setView(VIEWS[next]!);
    tabRefs.current[next]?.focus();
  }

  return (
    <section className="dialog-list" aria-label={t('list.title')}>
      <div role="tablist" aria-label={t('list.views')} className="tabs">
        {VIEWS.map((view, index) => (
          <button
            key={view}
            ref={(element) => {
              tabRefs.current[index] = element;
            }}
            type="button"
            role="tab"
            id={`view-${view}`}
            aria-selected={state.view === view}
            aria-controls="dialog-list-panel"
            tabIndex={state.view === view ? 0 : -1}
            onClick={() => store.setView(view)}
            onKeyDown={(event) => onTabKey(event, index)}
          >
            {t(`list.view.${view}`)}
            {view !== 'all' ? <span className="count">{counts[view]}</span> : null}
          </button>
        ))}
      </div>
      <SearchAndFilters
        filters={state.filters}
        onChange={(filters) => store.setFilters(filters)}
        open={showFilters}
        onToggle={() => setShowFilters(!showFilters)}
        dialogs={all}
        lines={state.lines}
      />
      <div
        id="dialog-list-panel"
        role="tabpanel"
        aria-labelledby={`view-${state.view}`}
        className="dialog-list-panel"
      >
        <ErrorNotice error={state.listError} />
        {dialogs.length === 0 && !state.listLoading ? (
          <p className="muted padded">{t('list.empty')}</p>
        ) : null}
        <ul className="dialog-rows">
          {dialogs.map((dialog) => (
            <DialogRow
              key={dialog.id}
              dialog={dialog}
              active={dialog.id === openId}
              unread={state.unread[dialog.id] ?? 0}
              lineName={lineById.get(dialog.session?.lineId ?? dialog.lineId)?.name ?? '—'}
              operatorName={dialog.session?.operatorId ? (names[dialog.session.operatorId] ?? null) : null}
              kpi={liveKpiState(dialog, now)}
              now={now}
            />
          ))}
        </ul>
        {state.listCursor !== null ? (
          <button type="button" className="link-button padded" onClick={() => void store.reloadList(true)}>
            {t('list.more')}
          </button>
        ) : null}
        {state.listLoading ? (
          <p className="muted padded" aria-live="polite">
            {t('common.loading')}
          </p>
        ) : null}
      </div>
    </section>
  );
}

function DialogRow({
  dialog,
  active,
  unread,
  lineName,
  operatorName,
  kpi,
  now,
}: {
  dialog: Dialog;
  active: boolean;
  unread: number;
  lineName: string;
  operatorName: string | null;
  kpi: KpiState;
  now: number;
}) {
  const t = useT();
  const status = dialog.session?.status;
  const since = waitingSince(dialog);
  const href = `/dialogs/${dialog.id}`;
  return (
    <li>
      <a
        href={href}
        onClick={linkClick(href)}
        className={`dialog-row${active ? ' active' : ''}${unread > 0 ? ' unread' : ''}`}
        aria-current={active ? 'true' : undefined}
        data-dialog-id={dialog.id}
      >
        <span className="row-top">
          <span className="client-name">{dialog.client.name}</span>
          {unread > 0 ? <Badge count={unread} label={t('list.unread', { count: unread })} /> : null}
          {since ? (
            <span className="waiting" title={t('list.waiting')}>
              {formatDuration(now - Date.parse(since), t.locale)}
            </span>
          ) : null}
        </span>
        {dialog.searchHit ? (
          <span className="preview search-hit" title={t('list.searchHit')}>
            <MarkedText fragments={dialog.searchHit.fragments} />
          </span>
        ) : (
          <span className="preview">{dialog.lastMessagePreview ?? '…'}</span>
        )}
        <span className="row-meta">
          {status ? <span className={`status status-${status}`}>{t(`status.${status}`)}</span> : null}
          {kpi !== 'none' ? <span className={`kpi kpi-${kpi}`}>{t(`kpi.${kpi}`)}</span> : null}
          <span className="chip">{dialog.channelKind}</span>
          <span className="chip">{lineName}</span>
          {operatorName ? <span className="chip">{operatorName}</span> : null}
          {dialog.spam ? <span className="chip chip-warn">{t('dialog.spam')}</span> : null}
          {dialog.tags.map((tag) => (
            <span key={tag} className="chip chip-tag">
              {tag}
            </span>
          ))}
        </span>
      </a>
    </li>
  );
}

/** A search hit's excerpt, its matching words marked (as text: the excerpt is a client's words). */
function MarkedText({ fragments }: { fragments: SearchHit['fragments'] }) {
  let offset = 0;
  return fragments.map((fragment) => {
    const at = offset;
    offset += fragment.text.length;
    return fragment.hit ? <mark key={at}>{fragment.text}</mark> : <span key={at}>{fragment.text}</span>;
  });
}

function SearchAndFilters({
  filters,
  onChange,
  open,
  onToggle,
  dialogs,
  lines,
}: {
  filters: DialogFilters;
  onChange: (filters: DialogFilters) => void;
  open: boolean;
  onToggle: () => void;
  dialogs: Record<string, Dialog>;
  lines: Line[];
}) {
  const t = useT();
  const operators = useWorkspace(activeUserNames);
  const [search, setSearch] = useState(filters.search ?? '');
  const latest = useRef(filters);
  latest.current = filters;
  useEffect(() => {
    const timer = setTimeout(() => {
      const value = search.trim();
      if ((latest.current.search ?? '') !== value) {
        const { search: _old, ...rest } = latest.current;
        onChange(value ? { ...rest, search: value } : rest);
      }
    }, 300);
    return () => clearTimeout(timer);
  }, [search, onChange]);

  const set = <K extends keyof DialogFilters>(key: K, value: DialogFilters[K] | '') => {
    const next = { ...filters };
    if (value === '' || value === undefined) delete next[key];
    else next[key] = value;
    onChange(next);
  };
  const channels = useMemo(() => {
    const map = new Map<string, string>();
    for (const dialog of Object.values(dialogs)) map.set(dialog.channelId, dialog.channelKind);
    return [...map];
  }, [dialogs]);
  // The labels on the dialogs at hand, and the one filtered by (its dialogs may not be loaded yet).
  const tags = useMemo(() => {
    const known = knownTags(Object.values(dialogs));
    return filters.tag && !known.includes(filters.tag) ? sortTags([...known, filters.tag]) : known;
  }, [dialogs, filters.tag]);
  const activeCount = Object.keys(filters).filter((key) => key !== 'search').length;
  const day = (iso: string | undefined) => (iso ? dayKey(iso) : '');

  return (
    <div className="list-tools">
      <div className="search-row">
        <label className="visually-hidden" htmlFor="dialog-search">
          {t('list.search')}
        </label>
        <input
          id="dialog-search"
          type="search"
          placeholder={t('list.search')}
          value={search}
          onChange={(event) => setSearch(event.target.value)}
        />
        <button type="button" aria-expanded={open} aria-controls="dialog-filters" onClick={onToggle}>
          {t('list.filters')}
          {activeCount > 0 ? <span className="count">{activeCount}</span> : null}
        </button>
      </div>
      {open ? (
        <fieldset id="dialog-filters" className="filters">
          <legend className="visually-hidden">{t('list.filters')}</legend>
          <label>
            {t('filter.line')}
            <select value={filters.lineId ?? ''} onChange={(event) => set('lineId', event.target.value)}>
              <option value="">{t('filter.any')}</option>
              {lines.map((line) => (
                <option key={line.id} value={line.id}>
                  {line.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('filter.status')}
            <select
              value={filters.status ?? ''}
              onChange={(event) => set('status', event.target.value as SessionStatus | '')}
            >
              <option value="">{t('filter.any')}</option>
              {SESSION_STATUSES.map((status) => (
                <option key={status} value={status}>
                  {t(`status.${status}`)}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('filter.operator')}
            <select
              value={filters.operatorId ?? ''}
              onChange={(event) => set('operatorId', event.target.value)}
            >
              <option value="">{t('filter.any')}</option>
              {Object.entries(operators).map(([id, name]) => (
                <option key={id} value={id}>
                  {name}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('filter.channel')}
            <select
              value={filters.channelId ?? ''}
              onChange={(event) => set('channelId', event.target.value)}
            >
              <option value="">{t('filter.any')}</option>
              {channels.map(([id, kind]) => (
                <option key={id} value={id}>
                  {kind} · {id.slice(0, 8)}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('filter.tag')}
            <select value={filters.tag ?? ''} onChange={(event) => set('tag', event.target.value)}>
              <option value="">{t('filter.any')}</option>
              {tags.map((tag) => (
                <option key={tag} value={tag}>
                  {tag}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('filter.from')}
            <input
              type="date"
              value={day(filters.from)}
              onChange={(event) =>
                set(
                  'from',
                  event.target.value ? new Date(`${event.target.value}T00:00:00`).toISOString() : '',
                )
              }
            />
          </label>
          <label>
            {t('filter.to')}
            <input
              type="date"
              value={filters.to ? day(new Date(Date.parse(filters.to) - 1).toISOString()) : ''}
              onChange={(event) => {
                if (!event.target.value) return set('to', '');
                const end = new Date(`${event.target.value}T00:00:00`);
                end.setDate(end.getDate() + 1);
                set('to', end.toISOString());
              }}
            />
          </label>
          {activeCount > 0 ? (
            <button
              type="button"
              className="link-button"
              onClick={() => onChange(filters.search ? { search: filters.search } : {})}
            >
              {t('filter.clear')}
            </button>
          ) : null}
        </fieldset>
      ) : null}
    </div>
  );
}
