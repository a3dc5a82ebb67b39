import type { LiveBoard as Board, OpenlinesEvent, StatisticsSummary } from '@openlines/contract';
import { useEffect, useRef, useState } from 'react';
import { useLoad } from '../admin/use-load';
import { client } from '../lib/api';
import type { Locale, MessageKey } from '../lib/catalogue';
import { describeSeconds, formatDuration } from '../lib/format';
import { useT } from '../lib/i18n';
import { linkClick } from '../lib/router';
import { ErrorNotice } from '../ui/error-notice';
import { useStore } from '../workspace/store-context';
import { FIGURES, isoDate } from './figures';

/** Today's figures on the board. */
const TODAY = FIGURES.filter((f) =>
  [
    'sessions',
    'messagesIn',
    'firstAnswerAverage',
    'everyAnswerP90',
    'unanswered',
    'missed',
    'kpiBreaches',
  ].includes(f.key),
);

function todayValue(figure: (typeof TODAY)[number], today: StatisticsSummary, locale: Locale): string {
  const value = figure.value(today);
  if (value === null) return '—';
  return figure.kind === 'seconds' ? describeSeconds(Math.round(value), locale) : String(value);
}

/** The line's longest wait, overdue (highlighted) past its first-answer target; a link to that dialog. */
function LongestWait({ line, since }: { line: Board['lines'][number]; since: number }) {
  const t = useT();
  if (line.longestWaitSeconds === null) return <td>—</td>;
  const seconds = line.longestWaitSeconds + since / 1000;
  const overdue = line.firstAnswerTargetSeconds !== null && seconds > line.firstAnswerTargetSeconds;
  const path = line.longestWaitDialogId ? `/dialogs/${line.longestWaitDialogId}` : null;
  const text = formatDuration(seconds * 1000, t.locale);
  return (
    <td className={overdue ? 'overdue' : undefined} data-cell="longest-wait">
      {path ? (
        <a href={path} onClick={linkClick(path)} title={t('stats.session.open')}>
          {text}
        </a>
      ) : (
        text
      )}
      {overdue ? <span className="visually-hidden"> {t('stats.live.overdue')}</span> : null}
    </td>
  );
}

/** The events after which the board is read again: sessions moving, operators changing status. */
const MOVES: ReadonlySet<OpenlinesEvent['type']> = new Set([
  'dialog.updated',
  'message.created',
  'presence.changed',
  'user.created',
  'user.updated',
  'user.deactivated',
  'line.changed',
]);
/** Events come in bursts (a message moves a dialog too): one read per burst. */
const SETTLE_MS = 300;

/** The supervisors' live board (AN-3), read again on every realtime event that moves it. */
export function LiveBoard() {
  const t = useT();
  const store = useStore();
  const { data, error, reload } = useLoad<{ board: Board; today: StatisticsSummary; at: number }>(
    async () => {
      const day = isoDate(new Date());
      const [board, today] = await Promise.all([
        client.statistics.live(),
        client.statistics.summary({ from: day, to: day }),
      ]);
      return { board, today: today.current, at: Date.now() };
    },
  );
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => {
    const off = store.onEvent((event) => {
      if (!MOVES.has(event.type) || timer.current) return;
      timer.current = setTimeout(() => {
        timer.current = null;
        void reload();
      }, SETTLE_MS);
    });
    return () => {
      off();
      if (timer.current) clearTimeout(timer.current);
    };
  }, [store, reload]);
  // Waits grow between events: the clock ticks the shown times on.
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(tick);
  }, []);

  const board = data?.board;
  const since = data ? Math.max(0, now - data.at) : 0;
  return (
    <section aria-labelledby="live-title" className="stats">
      <div className="screen-head">
        <h1 id="live-title">{t('stats.live')}</h1>
        {board ? (
          <span className="muted" data-testid="in-progress">
            {t('stats.live.inProgress', { count: board.inProgress })}
          </span>
        ) : null}
      </div>
      <ErrorNotice error={error} />
      {board ? (
        <>
          <section aria-labelledby="live-today" className="stats-block">
            <h2 id="live-today">{t('stats.live.today')}</h2>
            <ul className="stats-cards">
              {TODAY.map((figure) => (
                <li key={figure.key} className="stats-card" data-today={figure.key}>
                  <span className="stats-card-label">{t(`stats.figure.${figure.key}` as MessageKey)}</span>
                  <strong className="stats-card-value">{todayValue(figure, data.today, t.locale)}</strong>
                </li>
              ))}
            </ul>
          </section>
          <section aria-labelledby="live-lines" className="stats-block">
            <h2 id="live-lines">{t('stats.live.lines')}</h2>
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">{t('stats.dimension.line')}</th>
                  <th scope="col">{t('stats.live.queued')}</th>
                  <th scope="col">{t('stats.live.longestWait')}</th>
                  <th scope="col">{t('stats.live.waitingFirst')}</th>
                  <th scope="col">{t('stats.live.inProgressColumn')}</th>
                  <th scope="col">{t('stats.live.bot')}</th>
                </tr>
              </thead>
              <tbody>
                {board.lines.map((line) => (
                  <tr key={line.lineId} data-line={line.lineId}>
                    <th scope="row">{line.name}</th>
                    <td data-cell="queued">{line.queued}</td>
                    <LongestWait line={line} since={since} />
                    <td>{line.waitingFirstAnswer}</td>
                    <td>{line.inProgress}</td>
                    <td>{line.bot}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
          <section aria-labelledby="live-operators" className="stats-block">
            <h2 id="live-operators">{t('stats.live.operators')}</h2>
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">{t('stats.dimension.operator')}</th>
                  <th scope="col">{t('stats.live.status')}</th>
                  <th scope="col">{t('stats.live.load')}</th>
                  <th scope="col">{t('stats.live.waiting')}</th>
                </tr>
              </thead>
              <tbody>
                {board.operators.map((operator) => {
                  const full = operator.limit !== null && operator.load >= operator.limit;
                  return (
                    <tr
                      key={operator.userId}
                      data-operator={operator.userId}
                      className={full ? 'over-limit' : undefined}
                    >
                      <th scope="row">{operator.name}</th>
                      <td>
                        <span className={`dot dot-${operator.presence}`} aria-hidden="true" />{' '}
                        {t(`presence.${operator.presence}`)}
                        {operator.absent ? ` · ${t('stats.live.absent')}` : ''}
                      </td>
                      <td data-cell="load">
                        {operator.limit === null
                          ? t('stats.live.loadUnlimited', { load: operator.load })
                          : t('stats.live.loadOf', { load: operator.load, limit: operator.limit })}
                      </td>
                      <td>{operator.waiting}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </section>
        </>
      ) : null}
    </section>
  );
}
