import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  LiveBoardSchema,
  SeriesReportSchema,
  StatisticsQuery,
  StatisticsSeriesQuery,
  StatisticsSessionPageSchema,
  StatisticsSessionsQuery,
  StatisticsTableParams,
  SummaryReportSchema,
  TableReportSchema,
} from '@openlines/contract';
import { type TSchema, Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import type { AppContext } from '../../context';
import { isTimeZone } from '../../core/analytics';
import { invalidField } from '../../errors';
import {
  liveBoard,
  seriesReport,
  sessionPage,
  sessionRows,
  statisticsSettings,
  summaryReport,
  tableReport,
  updateStatisticsSettings,
} from '../../services/statistics';
import { seriesCsv, sessionsCsv, summaryCsv, tableCsv } from '../../services/statistics-csv';
import { actorOf } from '../auth';

/** JSON, or with format=csv the same report as text/csv. */
const jsonOrCsv = <T extends TSchema>(schema: T) => ({
  description: 'The report; with format=csv the same as text/csv',
  content: { 'application/json': { schema }, 'text/csv': { schema: Type.String() } },
});
const SettingsSchema = Type.Object(
  { timeZone: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);

function sendCsv(reply: FastifyReply, name: string, body: string | Readable) {
  return reply
    .type('text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${name}.csv"`)
    .send(body);
}

/** Statistics (AN-1..AN-3): every route checks the caller's `statistics` scope in the service. */
export const statisticsRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.get(
    '/statistics/summary',
    {
      schema: {
        tags: ['statistics'],
        summary: 'Every AN-1 figure for a period and for the period of as many days before it',
        querystring: StatisticsQuery,
        response: { 200: jsonOrCsv(SummaryReportSchema) },
      },
    },
    async (request, reply) => {
      const { format, ...query } = request.query;
      const report = await summaryReport(ctx, actorOf(request), query);
      return format === 'csv' ? sendCsv(reply, 'summary', summaryCsv(report)) : report;
    },
  );
  app.get(
    '/statistics/series',
    {
      schema: {
        tags: ['statistics'],
        summary: 'The figures per day, week or month of the period (account time zone)',
        querystring: StatisticsSeriesQuery,
        response: { 200: jsonOrCsv(SeriesReportSchema) },
      },
    },
    async (request, reply) => {
      const { format, ...query } = request.query;
      const report = await seriesReport(ctx, actorOf(request), query);
      return format === 'csv' ? sendCsv(reply, `series-${report.bucket}`, seriesCsv(report)) : report;
    },
  );
  app.get(
    '/statistics/by/:dimension',
    {
      schema: {
        tags: ['statistics'],
        summary: 'The figures per operator, line, channel or channel kind',
        params: StatisticsTableParams,
        querystring: StatisticsQuery,
        response: { 200: jsonOrCsv(TableReportSchema) },
      },
    },
    async (request, reply) => {
      const { format, ...query } = request.query;
      const report = await tableReport(ctx, actorOf(request), request.params.dimension, query);
      return format === 'csv' ? sendCsv(reply, `by-${report.dimension}`, tableCsv(report)) : report;
    },
  );
  app.get(
    '/statistics/sessions',
    {
      schema: {
        tags: ['statistics'],
        summary:
          'The sessions behind the figures, one row each (only = the sessions of one figure); JSON by page, CSV all at once, streamed',
        querystring: StatisticsSessionsQuery,
        response: { 200: jsonOrCsv(StatisticsSessionPageSchema) },
      },
    },
    async (request, reply) => {
      const { format, ...query } = request.query;
      const actor = actorOf(request);
      if (format !== 'csv') return sessionPage(ctx, actor, query);
      const { only = 'all', cursor, limit: _limit, ...filters } = query;
      const rows = sessionRows(ctx, actor, filters, { only, cursor, limit: undefined });
      // The first row is read before answering: a refused filter still answers 4xx problem+json.
      const first = await rows.next();
      async function* all() {
        if (first.done) return;
        yield first.value.row;
        for await (const { row } of rows) yield row;
      }
      return sendCsv(reply, 'sessions', Readable.from(sessionsCsv(all())));
    },
  );
  app.get(
    '/statistics/live',
    {
      schema: {
        tags: ['statistics'],
        summary: 'The live board (AN-3): queue per line, operators with their load, sessions in progress',
        response: { 200: LiveBoardSchema },
      },
    },
    async (request) => liveBoard(ctx, actorOf(request)),
  );
  app.get(
    '/statistics/settings',
    {
      schema: {
        tags: ['statistics'],
        summary: 'The time zone periods and buckets are read in',
        response: { 200: SettingsSchema },
      },
    },
    async (request) => statisticsSettings(ctx, actorOf(request)),
  );
  app.put(
    '/statistics/settings',
    {
      schema: {
        tags: ['statistics'],
        summary: 'Set the account time zone of statistics (needs statistics "all" and manageUsers)',
        body: SettingsSchema,
        response: { 200: SettingsSchema },
      },
    },
    async (request) => {
      if (!isTimeZone(request.body.timeZone)) throw invalidField('body.timeZone', 'is not an IANA time zone');
      return updateStatisticsSettings(ctx, actorOf(request), request.body);
    },
  );
};
