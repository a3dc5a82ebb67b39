import {
  type Attributes,
  type Span,
  SpanStatusCode,
  type TextMapPropagator,
  type Tracer,
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
 * Runs one step of the message path in a span of its own (a child of the active span, e.g. the
 * request's), marked failed when the step throws. With tracing off it only calls `work`.
 */
export function traced<T>(
  ctx: { tracing?: Tracing | undefined },
  name: string,
  attributes: Attributes,
  work: (span: Span | null) => Promise<T>,
): Promise<T> {
  const tracing = ctx.tracing;
  if (!tracing) return work(null);
  return tracing.tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
      throw error;
    } finally {
      span.end();
    }
  });
}
