import type {
  Channel,
  Me,
  SeriesReport,
  SessionSubset,
  StatisticsBucket,
  StatisticsDimension,
  StatisticsSession,
  StatisticsSummary,
  SummaryReport,
  TableReport,
} from '@openlines/contract';
import type { StatisticsFilter, StatisticsReportName } from '@openlines/sdk';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { useLoad } from '../admin/use-load';
import { channelKinds, client } from '../lib/api';
import type { MessageKey } from '../lib/catalogue';
import { describeSeconds, formatDateTime } from '../lib/format';
import { type Translate, useT } from '../lib/i18n';
import { linkClick } from '../lib/router';
import { ErrorNotice } from '../ui/error-notice';
import { Modal } from '../ui/modal';
import { useWorkspace } from '../workspace/store-context';
import { Chart, type ChartSeries } from './chart';
import { changeOf, FIGURES, type Figure, lastDays, sortRows } from './figures';

const DIMENSIONS: readonly StatisticsDimension[] = ['operator', 'line', 'channel', 'channel-kind'];
const BUCKETS: readonly StatisticsBucket[] = ['day', 'week', 'month'];
/** The table's columns: the figures a supervisor compares operators and lines by. */
const TABLE_COLUMNS = [
  'sessions',
  'messagesIn',
  'messagesOut',
  'firstAnswerAverage',
  'everyAnswerAverage',
  'everyAnswerP90',
  'timeToCloseAverage',
  'unanswered',
  'missed',
  'kpiBreaches',
  'likeShare',
  'supervisorRatingAverage',
] as const;

function formatFigure(t: Translate, figure: Pick<Figure, 'kind'>, value: number | null): string {
  if (value === null) return '—';
  const number = new Intl.NumberFormat(t.locale, { maximumFractionDigits: 1 });
  if (figure.kind === 'seconds') return describeSeconds(Math.round(value), t.locale);
  if (figure.kind === 'share') return `${Math.round(value * 100)} %`;
  return number.format(value);
}

/** Seconds on a chart axis: tenths below a minute, so near ticks do not read the same. */
function axisSeconds(value: number, locale: Translate['locale']): string {
  if (value >= 60) return describeSeconds(Math.round(value), locale);
  const number = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 }).format(value);
  return locale === 'ru' ? `${number} с` : `${number}s`;
}

const figureLabel = (t: Translate, key: string) => t(`stats.figure.${key}` as MessageKey);

/** Reports (AN-1/AN-2): filters, the summary with its change, charts over time and a table. */
export function Reports({ me }: { me: Me }) {
  const t = useT();
  const lines = useWorkspace((state) => state.lines);
  const users = useWorkspace((state) => state.users);
  const [filter, setFilter] = useState<StatisticsFilter>(() => lastDays(new Date(), 30));
  const [bucket, setBucket] = useState<StatisticsBucket>('day');
  const [dimension, setDimension] = useState<StatisticsDimension>('operator');
  const [channels, setChannels] = useState<Channel[]>([]);
  const [kinds, setKinds] = useState<string[]>([]);
  const own = me.permissions.statistics === 'own';

  useEffect(() => {
    channelKinds().then(setKinds, () => setKinds([]));
  }, []);
  useEffect(() => {
    // Channels are listed for those who manage lines; the others filter by kind only.
    if (me.permissions.manageLines) client.channels.list().then(setChannels, () => setChannels([]));
  }, [me.permissions.manageLines]);

  const key = JSON.stringify([filter, bucket, dimension]);
  const { data, error, loading, reload } = useLoad(async () => {
    const [summary, series, table] = await Promise.all([
      client.statistics.summary(filter),
      client.statistics.series({ ...filter, bucket }),
      client.statistics.table(dimension, filter),
    ]);
    return { summary, series, table };
  }, key);

  const set = (patch: Partial<StatisticsFilter>) => {
    const next: StatisticsFilter = { ...filter, ...patch };
    for (const [name, value] of Object.entries(next))
      if (value === '') delete next[name as keyof StatisticsFilter];
    setFilter(next);
  };

  return (
    <section aria-labelledby="stats-title" className="stats">
      <div className="screen-head">
        <h1 id="stats-title">{t('stats.reports')}</h1>
        {data ? (
          <span className="muted">
            {t(`stats.scope.${data.summary.scope}`)} · {t('stats.timeZone', { zone: data.summary.timeZone })}
          </span>
        ) : null}
        {data && me.permissions.manageUsers && me.permissions.statistics === 'all' ? (
          <TimeZoneSetting zone={data.summary.timeZone} onChanged={reload} />
        ) : null}
      </div>
      <form
        className="stats-filters"
        onSubmit={(event) => event.preventDefault()}
        aria-label={t('stats.filters')}
      >
        <label>
          {t('stats.from')}
          <input
            type="date"
            value={filter.from}
            max={filter.to}
            required
            onChange={(e) => e.target.value && set({ from: e.target.value })}
          />
        </label>
        <label>
          {t('stats.to')}
          <input
            type="date"
            value={filter.to}
            min={filter.from}
            required
            onChange={(e) => e.target.value && set({ to: e.target.value })}
          />
        </label>
        <label>
          {t('stats.bucket')}
          <select value={bucket} onChange={(e) => setBucket(e.target.value as StatisticsBucket)}>
            {BUCKETS.map((b) => (
              <option key={b} value={b}>
                {t(`stats.bucket.${b}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('stats.line')}
          <select value={filter.lineId ?? ''} onChange={(e) => set({ lineId: e.target.value })}>
            <option value="">{t('stats.anyLine')}</option>
            {lines.map((line) => (
              <option key={line.id} value={line.id}>
                {line.name}
              </option>
            ))}
          </select>
        </label>
        {kinds.length ? (
          <label>
            {t('stats.channelKind')}
            <select value={filter.channelKind ?? ''} onChange={(e) => set({ channelKind: e.target.value })}>
              <option value="">{t('stats.anyKind')}</option>
              {kinds.map((kind) => (
                <option key={kind} value={kind}>
                  {kind}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        {channels.length ? (
          <label>
            {t('stats.channel')}
            <select value={filter.channelId ?? ''} onChange={(e) => set({ channelId: e.target.value })}>
              <option value="">{t('stats.anyChannel')}</option>
              {channels.map((channel) => (
                <option key={channel.id} value={channel.id}>
                  {channel.name}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        {own ? null : (
          <label>
            {t('stats.operator')}
            <select value={filter.operatorId ?? ''} onChange={(e) => set({ operatorId: e.target.value })}>
              <option value="">{t('stats.anyOperator')}</option>
              {Object.values(users)
                .filter((u) => u.active)
                .sort((a, b) => a.name.localeCompare(b.name))
                .map((user) => (
                  <option key={user.id} value={user.id}>
                    {user.name}
                  </option>
                ))}
            </select>
          </label>
        )}
      </form>
      <ErrorNotice error={error} />
      {loading && !data ? <p>{t('common.loading')}</p> : null}
      {data ? (
        <>
          <SummaryCards report={data.summary} filter={filter} />
          <Charts series={data.series} />
          <ReportTable report={data.table} dimension={dimension} onDimension={setDimension} filter={filter} />
        </>
      ) : null}
    </section>
  );
}

/** The account's time zone, in which periods and buckets are read (administrators only). */
function TimeZoneSetting({ zone, onChanged }: { zone: string; onChanged: () => void }) {
  const t = useT();
  const [error, setError] = useState<unknown>(null);
  const zones = useMemo(() => {
    const known = Intl.supportedValuesOf('timeZone');
    return known.includes(zone) ? known : [zone, ...known];
  }, [zone]);
  return (
    <>
      <label>
        {t('stats.timeZoneSetting')}{' '}
        <select
          value={zone}
          onChange={(event) => {
            setError(null);
            client.statistics.updateSettings({ timeZone: event.target.value }).then(onChanged, setError);
          }}
        >
          {zones.map((z) => (
            <option key={z} value={z}>
              {z}
            </option>
          ))}
        </select>
      </label>
      <ErrorNotice error={error} onDismiss={() => setError(null)} />
    </>
  );
}

function CsvLink({
  report,
  filter,
  bucket,
  only,
}: {
  report: StatisticsReportName;
  filter: StatisticsFilter;
  bucket?: StatisticsBucket;
  only?: SessionSubset;
}) {
  const t = useT();
  return (
    <a
      className="button-link"
      href={client.statistics.csvUrl(report, {
        ...filter,
        ...(bucket ? { bucket } : {}),
        ...(only ? { only } : {}),
      })}
      download
    >
      {t('stats.csv')}
    </a>
  );
}

function SummaryCards({ report, filter }: { report: SummaryReport; filter: StatisticsFilter }) {
  const t = useT();
  const [drill, setDrill] = useState<Figure | null>(null);
  return (
    <section aria-labelledby="stats-summary" className="stats-block">
      <div className="screen-head">
        <h2 id="stats-summary">{t('stats.summary')}</h2>
        <span className="muted">
          {t('stats.comparedWith', { from: report.previousPeriod.from, to: report.previousPeriod.to })}
        </span>
        <CsvLink report="summary" filter={filter} />
      </div>
      <ul className="stats-cards">
        {FIGURES.filter((f) => report.scope === 'all' || f.key !== 'botSeconds').map((figure) => {
          const current = figure.value(report.current);
          const previous = figure.value(report.previous);
          const change = changeOf(current, previous, figure.higherIsBetter);
          return (
            <li key={figure.key} className="stats-card" data-figure={figure.key}>
              <span className="stats-card-label">{figureLabel(t, figure.key)}</span>
              {figure.subset && current ? (
                <button
                  type="button"
                  className="link-button stats-card-value stats-card-drill"
                  title={t('stats.showSessions')}
                  onClick={() => setDrill(figure)}
                >
                  {formatFigure(t, figure, current)}
                </button>
              ) : (
                <strong className="stats-card-value">{formatFigure(t, figure, current)}</strong>
              )}
              <span className={`stats-change stats-change-${change.tone}`}>
                {change.direction === 'none'
                  ? t('stats.change.none')
                  : change.ratio === null
                    ? change.direction === 'same'
                      ? t('stats.change.same')
                      : t('stats.change.was', { value: formatFigure(t, figure, previous) })
                    : `${change.direction === 'up' ? '▲' : change.direction === 'down' ? '▼' : '='} ${Math.round(
                        Math.abs(change.ratio) * 100,
                      )} %`}
              </span>
            </li>
          );
        })}
      </ul>
      {drill?.subset ? (
        <SessionList
          title={figureLabel(t, drill.key)}
          filter={filter}
          only={drill.subset}
          onClose={() => setDrill(null)}
        />
      ) : null}
    </section>
  );
}

/** The sessions behind a figure (drill-down), a page at a time, each linked to its dialog. */
function SessionList({
  title,
  filter,
  only,
  onClose,
}: {
  title: string;
  filter: StatisticsFilter;
  only: SessionSubset;
  onClose: () => void;
}) {
  const t = useT();
  const lines = useWorkspace((state) => state.lines);
  const users = useWorkspace((state) => state.users);
  const [pages, setPages] = useState<StatisticsSession[][]>([]);
  const [next, setNext] = useState<string | null | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(
    (cursor?: string) =>
      client.statistics
        .sessions({ ...filter, only, limit: 50, ...(cursor ? { cursor } : {}) })
        .then((page) => {
          setPages((before) => [...before, page.items]);
          setNext(page.nextCursor);
        }, setError),
    [filter, only],
  );
  useEffect(() => {
    void load();
  }, [load]);
  const rows = pages.flat();
  const lineName = (id: string) => lines.find((l) => l.id === id)?.name ?? '';
  const seconds = (value: number | null) =>
    value === null ? '—' : describeSeconds(Math.round(value), t.locale);
  return (
    <Modal title={title} onClose={onClose} wide>
      <p>
        <CsvLink report="sessions" filter={filter} only={only} />
      </p>
      <ErrorNotice error={error} />
      {next === undefined && !error ? <p>{t('common.loading')}</p> : null}
      <div className="stats-table-wrap">
        <table className="table" data-testid="drill-down">
          <thead>
            <tr>
              <th scope="col">{t('stats.session.started')}</th>
              <th scope="col">{t('stats.dimension.line')}</th>
              <th scope="col">{t('stats.dimension.operator')}</th>
              <th scope="col">{t('stats.session.firstAnswer')}</th>
              <th scope="col">{t('stats.session.longestAnswer')}</th>
              <th scope="col">{t('stats.session.closedAfter')}</th>
              <th scope="col">
                <span className="visually-hidden">{t('common.actions')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.sessionId}>
                <td>{formatDateTime(row.createdAt, t.locale)}</td>
                <td>{lineName(row.lineId)}</td>
                <td>{row.operatorId ? (users[row.operatorId]?.name ?? '') : '—'}</td>
                <td>{seconds(row.firstAnswerSeconds)}</td>
                <td>{seconds(row.longestAnswerSeconds)}</td>
                <td>{seconds(row.closeSeconds)}</td>
                <td>
                  <a href={`/dialogs/${row.dialogId}`} onClick={linkClick(`/dialogs/${row.dialogId}`)}>
                    {t('stats.session.open')}
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {next ? (
        <button type="button" onClick={() => void load(next)}>
          {t('stats.session.more')}
        </button>
      ) : null}
    </Modal>
  );
}

function Charts({ series }: { series: SeriesReport }) {
  const t = useT();
  const x = useMemo(() => series.points.map((p) => p.bucket), [series]);
  const pick = useCallback(
    (get: (s: StatisticsSummary) => number | null) => series.points.map((p) => get(p.summary)),
    [series],
  );
  const volume = useMemo<ChartSeries[]>(
    () => [
      { label: t('stats.figure.sessions'), values: pick((s) => s.sessions), color: '#2563eb' },
      { label: t('stats.figure.messagesIn'), values: pick((s) => s.messagesIn), color: '#16a34a' },
      { label: t('stats.figure.messagesOut'), values: pick((s) => s.messagesOut), color: '#d97706' },
    ],
    [pick, t],
  );
  const times = useMemo<ChartSeries[]>(
    () => [
      {
        label: t('stats.figure.firstAnswerAverage'),
        values: pick((s) => s.firstAnswer.average),
        color: '#7c3aed',
      },
      { label: t('stats.figure.everyAnswerP90'), values: pick((s) => s.everyAnswer.p90), color: '#dc2626' },
    ],
    [pick, t],
  );
  const count = useCallback((v: number) => new Intl.NumberFormat(t.locale).format(v), [t.locale]);
  const duration = useCallback((v: number) => axisSeconds(v, t.locale), [t.locale]);
  return (
    <section aria-labelledby="stats-charts" className="stats-block">
      <div className="screen-head">
        <h2 id="stats-charts">{t('stats.overTime')}</h2>
      </div>
      <div className="stats-charts">
        <Chart
          title={t('stats.chart.volume')}
          x={x}
          series={volume}
          format={count}
          locale={t.locale}
          xLabel={t('stats.chart.date')}
        />
        <Chart
          title={t('stats.chart.times')}
          x={x}
          series={times}
          format={duration}
          locale={t.locale}
          xLabel={t('stats.chart.date')}
        />
      </div>
    </section>
  );
}

function ReportTable({
  report,
  dimension,
  onDimension,
  filter,
}: {
  report: TableReport;
  dimension: StatisticsDimension;
  onDimension: (d: StatisticsDimension) => void;
  filter: StatisticsFilter;
}) {
  const t = useT();
  const [sort, setSort] = useState<{ key: string; descending: boolean }>({
    key: 'sessions',
    descending: true,
  });
  const rows = sortRows(report.rows, sort.key, sort.descending);
  const header = (key: string, label: string) => (
    <th scope="col" aria-sort={sort.key === key ? (sort.descending ? 'descending' : 'ascending') : 'none'}>
      <button
        type="button"
        className="link-button"
        onClick={() => setSort({ key, descending: sort.key === key ? !sort.descending : key !== 'name' })}
      >
        {label}
        {sort.key === key ? (sort.descending ? ' ▼' : ' ▲') : ''}
      </button>
    </th>
  );
  return (
    <section aria-labelledby="stats-table" className="stats-block">
      <div className="screen-head">
        <h2 id="stats-table">{t('stats.table')}</h2>
        <label>
          {t('stats.by')}{' '}
          <select value={dimension} onChange={(e) => onDimension(e.target.value as StatisticsDimension)}>
            {DIMENSIONS.map((d) => (
              <option key={d} value={d}>
                {t(`stats.dimension.${d}`)}
              </option>
            ))}
          </select>
        </label>
        <CsvLink report={`by/${dimension}`} filter={filter} />
      </div>
      <div className="stats-table-wrap">
        <table className="table stats-table">
          <thead>
            <tr>
              {header('name', t(`stats.dimension.${dimension}`))}
              {TABLE_COLUMNS.map((key) => header(key, figureLabel(t, key)))}
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 ? (
              <tr>
                <td colSpan={TABLE_COLUMNS.length + 1}>{t('stats.noRows')}</td>
              </tr>
            ) : (
              rows.map((row) => (
                <tr key={row.key}>
                  <th scope="row">{row.name || row.key}</th>
                  {TABLE_COLUMNS.map((key) => {
                    const figure = FIGURES.find((f) => f.key === key)!;
                    return <td key={key}>{formatFigure(t, figure, figure.value(row.summary))}</td>;
                  })}
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}
