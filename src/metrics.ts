import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Prometheus metrics for one process. Job and charge gauges are filled at scrape time by the HTTP layer. */
export interface Metrics {
  registry: Registry;
  providerCalls: Counter<'endpoint' | 'outcome'>;
  providerLatency: Histogram<'endpoint'>;
  rateLimited: Counter<'queue'>;
  tickDuration: Histogram;
  jobs: Gauge<'queue' | 'state'>;
  charges: Gauge<'status'>;
  statusRate: Gauge;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  return {
    registry,
    providerCalls: new Counter({
      name: 'rentlink_provider_calls_total',
      help: 'Provider API calls by endpoint and outcome (ok, rejected, rate_limited, unavailable)',
      labelNames: ['endpoint', 'outcome'],
      registers: [registry],
    }),
    providerLatency: new Histogram({
      name: 'rentlink_provider_call_seconds',
      help: 'Provider API call latency',
      labelNames: ['endpoint'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'rentlink_rate_limited_total',
      help: 'Jobs that met a provider rate limit (429/503) and paused their queue',
      labelNames: ['queue'],
      registers: [registry],
    }),
    tickDuration: new Histogram({
      name: 'rentlink_tick_seconds',
      help: 'Duration of one tick',
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10],
      registers: [registry],
    }),
    jobs: new Gauge({
      name: 'rentlink_jobs',
      help: 'Jobs by queue and state',
      labelNames: ['queue', 'state'],
      registers: [registry],
    }),
    charges: new Gauge({
      name: 'rentlink_charges',
      help: 'Charges by status',
      labelNames: ['status'],
      registers: [registry],
    }),
    statusRate: new Gauge({
      name: 'rentlink_status_rate_per_second',
      help: 'Current adaptive GetPaymentStatus rate shared by all processes',
      registers: [registry],
    }),
  };
}
