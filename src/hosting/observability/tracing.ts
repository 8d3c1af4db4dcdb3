/**
 * OpenTelemetry tracing for the worker and the CLI, configured by the standard OTEL_* variables and
 * exported as OTLP over HTTP. Off unless an OTLP endpoint is set or OTEL_TRACES_EXPORTER=otlp; when off,
 * `startTracing` returns undefined without loading the SDK, and nobody installs an interceptor.
 *
 * What a span may carry is decided where spans are made (src/ccs/transport.ts, the SDK's interceptors):
 * names, ids, methods, path templates and statuses, never a header, a body or a query string.
 */
import type { Tracer } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { Sampler, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { PACKAGE_VERSION } from '../config/versioning';

/** The OTLP/HTTP default collector address, as the OpenTelemetry specification gives it. */
const DEFAULT_OTLP_ENDPOINT = 'http://localhost:4318';
/** Spans are sent in batches; shutting down waits at most this long for the last batch. */
const EXPORT_TIMEOUT_MS = 10_000;
const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'];

/** Tracing as the environment asks for it: where spans go, under which service name, how many are kept. */
export interface TracingSettings {
  /** The OTLP/HTTP traces URL: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, or OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/traces`. */
  url: string;
  serviceName: string;
  /** OTEL_TRACES_SAMPLER (default parentbased_always_on) and its OTEL_TRACES_SAMPLER_ARG ratio. */
  sampler: string;
  ratio: number;
  /** OTEL_EXPORTER_OTLP_(TRACES_)HEADERS, `key=value,…`: sent to the collector only, never recorded. */
  headers: Record<string, string>;
}

/** Running tracing: the tracer to make spans with, and what the worker's workflow span sink needs. */
export interface Tracing {
  readonly settings: TracingSettings;
  readonly tracer: Tracer;
  readonly resource: Resource;
  readonly spanProcessor: SpanProcessor;
  /** Sends what is buffered (bounded by the export timeout). Never rejects: a collector that is down costs spans, not the command. */
  flush(): Promise<void>;
  /** Flushes, then stops exporting. Safe to call more than once; never rejects. */
  shutdown(): Promise<void>;
}

function parseHeaders(text: string | undefined, name: string, problems: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const part of (text ?? '').split(',')) {
    if (part.trim() === '') continue;
    const at = part.indexOf('=');
    // The value could be a collector's API key: the problem names the variable, never the text.
    if (at <= 0) problems.push(`${name}: expected key=value pairs separated by commas`);
    else headers[decodeURIComponent(part.slice(0, at).trim())] = decodeURIComponent(part.slice(at + 1).trim());
  }
  return headers;
}

/**
 * Reads the OTEL_* variables (pure: `env` only). Undefined when tracing is off: no endpoint and no
 * OTEL_TRACES_EXPORTER=otlp, or OTEL_TRACES_EXPORTER=none, or OTEL_SDK_DISABLED=true. Bad values are
 * added to `problems`, every one of them, in the style of loadConfig.
 */
export function tracingSettings(
  env: Record<string, string | undefined>,
  defaultServiceName: string,
  problems: string[],
): TracingSettings | undefined {
  const exporter = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  if (exporter !== undefined && exporter !== '' && exporter !== 'otlp' && exporter !== 'none')
    problems.push(`OTEL_TRACES_EXPORTER: only otlp (OTLP over HTTP) or none is supported; got ${JSON.stringify(exporter)}`);
  const tracesEndpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || undefined;
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || undefined;
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true' || exporter === 'none') return undefined;
  if (!tracesEndpoint && !endpoint && exporter !== 'otlp') return undefined;
  const url = tracesEndpoint ?? `${(endpoint ?? DEFAULT_OTLP_ENDPOINT).replace(/\/+$/, '')}/v1/traces`;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http');
    if (parsed.username || parsed.password) problems.push('OTEL_EXPORTER_OTLP_ENDPOINT: must not carry a user name or password');
  } catch {
    problems.push('OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT: expected an http:// or https:// URL');
  }
  const sampler = env.OTEL_TRACES_SAMPLER?.trim().toLowerCase() || 'parentbased_always_on';
  if (!SAMPLERS.includes(sampler))
    problems.push(`OTEL_TRACES_SAMPLER: expected one of ${SAMPLERS.join(', ')}; got ${JSON.stringify(sampler)}`);
  const ratioText = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  const ratio = ratioText ? Number(ratioText) : 1;
  if (!/ratio$/.test(sampler) && ratioText) problems.push(`OTEL_TRACES_SAMPLER_ARG: only read by the traceidratio samplers`);
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) problems.push('OTEL_TRACES_SAMPLER_ARG: expected a number from 0 to 1');
  return {
    url,
    serviceName: env.OTEL_SERVICE_NAME?.trim() || defaultServiceName,
    sampler,
    ratio,
    headers: {
      ...parseHeaders(env.OTEL_EXPORTER_OTLP_HEADERS, 'OTEL_EXPORTER_OTLP_HEADERS', problems),
      ...parseHeaders(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS', problems),
    },
  };
}

/**
 * Starts tracing as `env` asks (see `tracingSettings`), registering the global tracer provider, the
 * async context manager and the W3C trace-context propagator the Temporal interceptors carry context
 * with. Undefined when off: then nothing of the SDK is loaded. Throws one Error listing every bad variable.
 * `warn` hears of spans that could not be sent when flushing (default: nobody; the CLI stays quiet).
 */
export async function startTracing(
  env: Record<string, string | undefined>,
  defaultServiceName: string,
  warn: (message: string) => void = () => undefined,
): Promise<Tracing | undefined> {
  const problems: string[] = [];
  const settings = tracingSettings(env, defaultServiceName, problems);
  if (problems.length > 0)
    throw new Error(`tracing is misconfigured (${problems.length} problem${problems.length > 1 ? 's' : ''}): ${problems.join('; ')}`);
  if (!settings) return undefined;
  // Loaded here, not at the top: a process without tracing never loads the SDK.
  const [{ NodeTracerProvider }, base, { Resource }, { OTLPTraceExporter }, semconv] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/semantic-conventions'),
  ]);
  const resource = new Resource({ [semconv.ATTR_SERVICE_NAME]: settings.serviceName, [semconv.ATTR_SERVICE_VERSION]: PACKAGE_VERSION });
  const ratio: Sampler = new base.TraceIdRatioBasedSampler(settings.ratio);
  const root: Sampler = settings.sampler.endsWith('always_off')
    ? new base.AlwaysOffSampler()
    : settings.sampler.endsWith('ratio')
      ? ratio
      : new base.AlwaysOnSampler();
  const sampler = settings.sampler.startsWith('parentbased_') ? new base.ParentBasedSampler({ root }) : root;
  const exporter = new OTLPTraceExporter({ url: settings.url, headers: settings.headers, timeoutMillis: EXPORT_TIMEOUT_MS });
  const spanProcessor = new base.BatchSpanProcessor(exporter, { exportTimeoutMillis: EXPORT_TIMEOUT_MS, scheduledDelayMillis: 1000 });
  const provider = new NodeTracerProvider({ resource, sampler, spanProcessors: [spanProcessor] });
  provider.register();
  let stopped: Promise<void> | undefined;
  // The exporter's error, never its request: the message names the collector, not its headers.
  const quietly = (what: string, done: Promise<void>): Promise<void> =>
    done.catch((err: unknown) => warn(`tracing: ${what} failed, spans were dropped (${(err as Error).message})`));
  return {
    settings,
    tracer: provider.getTracer('ccs-job-orchestrator', PACKAGE_VERSION),
    resource,
    spanProcessor,
    flush: () => quietly('exporting spans', provider.forceFlush()),
    shutdown: () => (stopped ??= quietly('exporting the last spans', provider.shutdown())),
  };
}
