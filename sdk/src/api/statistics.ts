import type {
  LiveBoard,
  SeriesReport,
  StatisticsBucket,
  StatisticsDimension,
  StatisticsQuery,
  StatisticsSessionPage,
  StatisticsSessionsQuery,
  SummaryReport,
  TableReport,
} from '@openlines/contract';
import { API_PREFIX, segment, type Transport } from '../transport';

/** A report's period (local dates, both included) and filters. */
export type StatisticsFilter = Omit<StatisticsQuery, 'format'>;

export type StatisticsReportName = 'summary' | 'series' | 'sessions' | `by/${StatisticsDimension}`;

/** Statistics reports, their CSV exports and the live board (`/statistics/*`). */
export class StatisticsApi {
  constructor(private readonly transport: Transport) {}

  summary(filter: StatisticsFilter): Promise<SummaryReport> {
    return this.transport.request('GET', '/statistics/summary', { query: { ...filter } });
  }

  series(filter: StatisticsFilter & { bucket?: StatisticsBucket }): Promise<SeriesReport> {
    return this.transport.request('GET', '/statistics/series', { query: { ...filter } });
  }

  table(dimension: StatisticsDimension, filter: StatisticsFilter): Promise<TableReport> {
    return this.transport.request('GET', `/statistics/by/${segment(dimension)}`, { query: { ...filter } });
  }

  /** The sessions behind the figures (`only`: those of one figure), a page at a time. */
  sessions(filter: Omit<StatisticsSessionsQuery, 'format'>): Promise<StatisticsSessionPage> {
    return this.transport.request('GET', '/statistics/sessions', { query: { ...filter } });
  }

  /** A report as CSV text: `summary`, `series`, `by/<dimension>` or `sessions` (every session). */
  csv(
    report: StatisticsReportName,
    filter: StatisticsFilter & { bucket?: StatisticsBucket; only?: StatisticsSessionsQuery['only'] },
  ): Promise<string> {
    return this.transport.request('GET', `/statistics/${report}`, {
      query: { ...filter, format: 'csv' },
      as: 'text',
    });
  }

  /** The link a browser downloads a report's CSV from (same filters). */
  csvUrl(
    report: StatisticsReportName,
    filter: StatisticsFilter & { bucket?: StatisticsBucket; only?: StatisticsSessionsQuery['only'] },
  ): string {
    return this.transport.url(`${API_PREFIX}/statistics/${report}`, { ...filter, format: 'csv' });
  }

  live(): Promise<LiveBoard> {
    return this.transport.request('GET', '/statistics/live');
  }

  settings(): Promise<{ timeZone: string }> {
    return this.transport.request('GET', '/statistics/settings');
  }

  updateSettings(input: { timeZone: string }): Promise<{ timeZone: string }> {
    return this.transport.request('PUT', '/statistics/settings', { body: input });
  }
}
