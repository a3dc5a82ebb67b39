import {
  type Attributes,
  defaultTextMapGetter,
  isSpanContextValid,
  type Link,
  ROOT_CONTEXT,
  type Span,
  SpanStatusCode,
  type TextMapPropagator,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { TracingConfig } from './config';

/**
 * OpenTelemetry traces (issue 21), off unless the standard OTEL_* variables ask for them
 * (config.ts `tracing`). When on: a span per HTTP request (http/tracing.ts, continuing a caller's
 * W3C `traceparent`), and spans on the message path: a client's message being stored
 * (`openlines.inbound.store`) and an outbound message being delivered to its channel
 * (`openlines.outbound.deliver`). Spans go to an OTLP/HTTP (JSON) endpoint in batches.
 *
 * What it costs when off: nothing is loaded (the SDK is imported only when tracing is on), no hook
 * is added to requests, and each traced step checks one property (`ctx.tracing`) and calls its work.
 */
export interface Tracing {
  tracer: Tracer;
  /** Reads and writes `traceparent` / `tracestate` (W3C Trace Context). */
  propagator: TextMapPropagator;
  /** Sends the spans ended so far (tests; before shutdown). */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

let contextManagerSet = false;

/** Starts the tracer of one server (its own provider: several servers in one process stay apart). */
export async function startTracing(config: TracingConfig): Promise<Tracing> {
  const [api, sdk, otlp, resources, hooks, core] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/core'),
  ]);
  // Spans started while a request or a step is in progress become its children: the active span
  // follows async calls. One context manager serves the whole process.
  if (!contextManagerSet) {
    api.context.setGlobalContextManager(new hooks.AsyncLocalStorageContextManager().enable());
    contextManagerSet = true;
  }
  const ratio = new sdk.TraceIdRatioBasedSampler(config.ratio);
  const root = {
    always_on: new sdk.AlwaysOnSampler(),
    always_off: new sdk.AlwaysOffSampler(),
    traceidratio: ratio,
    parentbased_always_on: new sdk.ParentBasedSampler({ root: new sdk.AlwaysOnSampler() }),
    parentbased_always_off: new sdk.ParentBasedSampler({ root: new sdk.AlwaysOffSampler() }),
    parentbased_traceidratio: new sdk.ParentBasedSampler({ root: ratio }),
  }[config.sampler];
  const provider = new sdk.NodeTracerProvider({
    resource: resources.resourceFromAttributes({ 'service.name': config.serviceName }),
    sampler: root,
    spanProcessors: [
      new sdk.BatchSpanProcessor(
        new otlp.OTLPTraceExporter({ url: config.endpoint, headers: config.headers }),
      ),
    ],
  });
  return {
    tracer: provider.getTracer('openlines'),
    propagator: new core.W3CTraceContextPropagator(),
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

/**
 * The W3C `traceparent` of the span in progress, to be kept with work that another step picks up
 * later (an outbox row); null when no span is (tracing off, or outside any traced step).
 */
export function activeTraceparent(): string | null {
  const span = trace.getActiveSpan()?.spanContext();
  if (!span || !isSpanContextValid(span)) return null;
  return `00-${span.traceId}-${span.spanId}-${(span.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** A link to the span a kept `traceparent` names (see activeTraceparent); none when it is not one. */
export function linkTo(tracing: Tracing, traceparent: string | null | undefined): Link[] {
  if (!traceparent) return [];
  const context = trace.getSpanContext(
    tracing.propagator.extract(ROOT_CONTEXT, { traceparent }, defaultTextMapGetter),
  );
  return context && isSpanContextValid(context) ? [{ context }] : [];
}

/**
 * Runs one step of the message path in a span of its own (a child of the active span, e.g. the
 * request's), marked failed when the step throws. `linkedTo` names the step that queued this work
 * when it ran elsewhere (a kept traceparent): the span links to it. With tracing off it only calls
 * `work`.
 */
export function traced<T>(
  ctx: { tracing?: Tracing | undefined },
  name: string,
  attributes: Attributes,
  work: (span: Span | null) => Promise<T>,
  linkedTo?: string | null,
): Promise<T> {
  const tracing = ctx.tracing;
  if (!tracing) return work(null);
  return tracing.tracer.startActiveSpan(
    name,
    { attributes, links: linkTo(tracing, linkedTo) },
    async (span) => {
      try {
        return await work(span);
      } catch (error) {
        span.recordException(error instanceof Error ? error : String(error));
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}
