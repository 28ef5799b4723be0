import { Injectable } from '@nestjs/common';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { clusterMetricsReader } from './cluster-metrics';

/**
 * The Prometheus registry of this process: HTTP request counts and latencies, plus Node's own
 * metrics. In a worker of several, /metrics shows the sum over the workers (see cluster-metrics.ts).
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests served, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from request received to response sent, by method and route pattern',
    labelNames: ['method', 'route', 'status'] as const,
    // Gate validations must answer in milliseconds, so the low buckets are fine-grained.
    buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  /** Under node:cluster, every worker's figures through the primary (cluster-metrics.ts). */
  private readonly clusterRender = clusterMetricsReader(this.registry);

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** `route` is the route pattern (`/v1/lines/:id`), never the raw URL, to keep label cardinality bounded. */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.requests.inc(labels);
    this.latency.observe(labels, seconds);
  }

  /** This process's metrics, or with several workers the sum of all of theirs. */
  render(): Promise<string> {
    return this.clusterRender ? this.clusterRender() : this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
