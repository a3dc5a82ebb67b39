import type {
  LiveBoard,
  SeriesReport,
  StatisticsBucket,
  StatisticsDimension,
  StatisticsQuery,
  SummaryReport,
  TableReport,
} from '@openlines/contract';
import { API_PREFIX, segment, type Transport } from '../transport';

/** A report's period (local dates, both included) and filters. */
export type StatisticsFilter = Omit<StatisticsQuery, 'format'>;

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

  /** A report as CSV text: `summary`, `series` or `by/<dimension>`. */
  csv(
    report: 'summary' | 'series' | `by/${StatisticsDimension}`,
    filter: StatisticsFilter & { bucket?: StatisticsBucket },
  ): Promise<string> {
    return this.transport.request('GET', `/statistics/${report}`, {
      query: { ...filter, format: 'csv' },
      as: 'text',
    });
  }

  /** The link a browser downloads a report's CSV from (same filters). */
  csvUrl(
    report: 'summary' | 'series' | `by/${StatisticsDimension}`,
    filter: StatisticsFilter & { bucket?: StatisticsBucket },
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
