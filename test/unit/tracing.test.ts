/**
 * Tracing's switch and what a CCS request's span may show: the OTEL_* variables read purely, off
 * unless an endpoint or the otlp exporter is named, every bad value reported; path templates that
 * keep no id and no query string.
 */
import { describe, expect, it } from 'vitest';
import { pathTemplate } from '../../src/ccs/transport';
import { startTracing, tracingSettings } from '../../src/hosting/observability/tracing';

const settings = (env: Record<string, string>) => {
  const problems: string[] = [];
  return { settings: tracingSettings(env, 'ccs-worker', problems), problems };
};

describe('tracingSettings', () => {
  it('is off without an endpoint, with OTEL_TRACES_EXPORTER=none and with OTEL_SDK_DISABLED=true', async () => {
    expect(settings({})).toEqual({ settings: undefined, problems: [] });
    expect(settings({ OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'always_on' }).settings).toBeUndefined();
    expect(settings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318', OTEL_TRACES_EXPORTER: 'none' }).settings).toBeUndefined();
    expect(settings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318', OTEL_SDK_DISABLED: 'true' }).settings).toBeUndefined();
    // Off means nothing started: no provider registered, nothing to shut down.
    expect(await startTracing({}, 'ccs-worker')).toBeUndefined();
  });

  it('reads the endpoint, service name, sampler and headers the OpenTelemetry way', () => {
    expect(settings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318/' }).settings).toEqual({
      url: 'http://otel:4318/v1/traces',
      serviceName: 'ccs-worker',
      sampler: 'parentbased_always_on',
      ratio: 1,
      headers: {},
    });
    expect(
      settings({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ignored:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://otel.example/custom/path',
        OTEL_SERVICE_NAME: 'scans-emea',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
        OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=abc%3D%3D, x-team=scans',
      }).settings,
    ).toEqual({
      url: 'https://otel.example/custom/path',
      serviceName: 'scans-emea',
      sampler: 'parentbased_traceidratio',
      ratio: 0.25,
      headers: { 'x-api-key': 'abc==', 'x-team': 'scans' },
    });
    expect(settings({ OTEL_TRACES_EXPORTER: 'otlp' }).settings?.url).toBe('http://localhost:4318/v1/traces');
  });

  it('reports every bad value at once, never echoing a header value', () => {
    const { problems } = settings({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://otel',
      OTEL_TRACES_EXPORTER: 'jaeger',
      OTEL_TRACES_SAMPLER: 'sometimes',
      OTEL_TRACES_SAMPLER_ARG: '2',
      OTEL_EXPORTER_OTLP_HEADERS: 'api-key-S3cr3t',
    });
    expect(problems).toHaveLength(6);
    expect(problems.join('\n')).not.toContain('S3cr3t');
  });
});

describe('pathTemplate', () => {
  it('keeps the words of a path, replaces ids, drops the query string', () => {
    expect(pathTemplate('/ccs/api/v1/oauth/tokens')).toBe('/ccs/api/v1/oauth/tokens');
    expect(pathTemplate('/ccs/api/v1/jobs/24f58e54-5d94-45f8-97a8-ccb6d959233a')).toBe('/ccs/api/v1/jobs/{id}');
    expect(pathTemplate('/ccs/api/v1/Jobs/24f58e54-5d94-45f8-97a8-ccb6d959233a/jobruns?count=5&showMessages=true')).toBe(
      '/ccs/api/v1/Jobs/{id}/jobruns',
    );
    expect(pathTemplate('/ccs/api/v1/Jobs?jobname=Nightly%20PCI')).toBe('/ccs/api/v1/Jobs');
    expect(pathTemplate('/ccs/api/v1/jobs/12345/x%20y')).toBe('/ccs/api/v1/jobs/{id}/{id}');
  });
});
