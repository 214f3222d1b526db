import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics for one process. Provider calls and rate limits carry the provider and account;
 * job, charge and double-payment gauges are filled at scrape time from their sources of truth.
 */
export interface Metrics {
  registry: Registry;
  providerCalls: Counter<'provider' | 'account' | 'endpoint' | 'outcome'>;
  providerLatency: Histogram<'provider' | 'account' | 'endpoint'>;
  rateLimited: Counter<'queue' | 'provider' | 'account'>;
  /** Webhooks and callbacks refused or ignored, by route and reason: counted, never written to events. */
  rejectedRequests: Counter<'route' | 'reason'>;
  tickDuration: Histogram;
  jobs: Gauge<'queue' | 'account' | 'state'>;
  charges: Gauge<'status'>;
  doublePayments: Gauge<'state'>;
  statusRate: Gauge<'account'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  return {
    registry,
    providerCalls: new Counter({
      name: 'rentlink_provider_calls_total',
      help: 'Provider API calls by provider, account, endpoint and outcome (ok, rejected, rate_limited, unavailable)',
      labelNames: ['provider', 'account', 'endpoint', 'outcome'],
      registers: [registry],
    }),
    providerLatency: new Histogram({
      name: 'rentlink_provider_call_seconds',
      help: 'Provider API call latency',
      labelNames: ['provider', 'account', 'endpoint'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'rentlink_rate_limited_total',
      help: "Jobs that met a provider rate limit (429/503) and paused their account's queue",
      labelNames: ['queue', 'provider', 'account'],
      registers: [registry],
    }),
    rejectedRequests: new Counter({
      name: 'rentlink_rejected_requests_total',
      help: 'Webhooks and callbacks refused (bad signature, unknown link) or ignored, by route and reason',
      labelNames: ['route', 'reason'],
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
      help: 'Jobs by queue kind, account and state',
      labelNames: ['queue', 'account', 'state'],
      registers: [registry],
    }),
    charges: new Gauge({
      name: 'rentlink_charges',
      help: 'Charges by status',
      labelNames: ['status'],
      registers: [registry],
    }),
    doublePayments: new Gauge({
      name: 'rentlink_double_payments',
      help: 'Charges paid more than once (a superseded link, a void charge, a link paid twice), to_review or reviewed',
      labelNames: ['state'],
      registers: [registry],
    }),
    statusRate: new Gauge({
      name: 'rentlink_status_rate_per_second',
      help: 'Current adaptive status-check rate of an account, shared by all processes',
      labelNames: ['account'],
      registers: [registry],
    }),
  };
}
