/** Prometheus metrics of the HTTP surface, on a registry of their own (no global state between servers in one process). */
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export interface ServerMetrics {
  readonly registry: Registry;
  readonly requestDuration: Histogram<'route' | 'method' | 'code'>;
  readonly admissionReviews: Counter<'outcome'>;
  readonly extenderRequests: Counter<'verb' | 'result'>;
  readonly tlsReloads: Counter<'result'>;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): ServerMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'polyarch_' });
  return {
    registry,
    requestDuration: new Histogram({
      name: 'polyarch_http_request_duration_seconds',
      help: 'Time from request to response, by route, method and status code.',
      labelNames: ['route', 'method', 'code'],
      // Admission is called inline on every pod create: the interesting range is sub-millisecond to the 10 s webhook timeout.
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    admissionReviews: new Counter({ name: 'polyarch_admission_reviews_total', help: 'AdmissionReviews answered, by outcome.', labelNames: ['outcome'], registers: [registry] }),
    extenderRequests: new Counter({ name: 'polyarch_extender_requests_total', help: 'Scheduler-extender calls, by verb and result.', labelNames: ['verb', 'result'], registers: [registry] }),
    tlsReloads: new Counter({ name: 'polyarch_tls_reloads_total', help: 'Serving-certificate reloads, by result.', labelNames: ['result'], registers: [registry] }),
  };
}
