import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Verdict } from '../engine/engine.js';

/**
 * The webhook's Prometheus metrics, on their own registry (tests build as many as they like).
 * `aggregator`: how `serve --workers N` combines a gauge over the workers (counters and histograms add up).
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly reviews = new Counter({
    name: 'gpu_admission_reviews_total', help: 'AdmissionReviews answered, by endpoint, operation, decision and governing NamespacePolicy',
    labelNames: ['endpoint', 'operation', 'decision', 'policy'] as const, registers: [this.registry], collect: () => this.flush(),
  });
  private readonly violations = new Counter({
    name: 'gpu_admission_rule_findings_total', help: 'Rule findings by rule id and outcome (deny, warn, audit)',
    labelNames: ['rule', 'outcome'] as const, registers: [this.registry], collect: () => this.flush(),
  });
  private readonly mutations = new Counter({
    name: 'gpu_admission_mutations_total', help: 'Changes made by mutators, by mutator', labelNames: ['mutator'] as const, registers: [this.registry], collect: () => this.flush(),
  });
  private readonly memo = new Counter({
    name: 'gpu_admission_review_memo_total', help: 'Reviews by what the review memo did: hit (answered as a repeat of a judged review), miss (judged; its answer kept from the second time on), skipped (judged; not keyed: a body the memo does not read, an answer it does not keep, or not sampled while nothing repeats)',
    labelNames: ['endpoint', 'result'] as const, registers: [this.registry], collect: () => this.flush(),
  });
  private readonly duration = new Histogram({
    name: 'gpu_admission_review_duration_milliseconds', help: 'Time to answer an AdmissionReview, from parsed body to response object',
    labelNames: ['endpoint'] as const, buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250], registers: [this.registry],
  });
  private readonly overBudget = new Counter({
    name: 'gpu_admission_reviews_over_budget_total', help: 'Reviews over the engine work budget (validate: denied as too complex, mutate: allowed without a patch), by endpoint',
    labelNames: ['endpoint'] as const, registers: [this.registry],
  });
  private readonly failures = new Counter({
    name: 'gpu_admission_review_errors_total', help: 'Requests answered with an error, by HTTP status', labelNames: ['status'] as const, registers: [this.registry],
  });
  readonly reloads = new Counter({
    name: 'gpu_admission_policy_reloads_total', help: 'Policy directory loads, by result', labelNames: ['result'] as const, registers: [this.registry],
  });
  readonly generation = new Gauge({ name: 'gpu_admission_policy_generation', help: 'Successful policy loads since start (the serving generation)', registers: [this.registry], aggregator: 'max' });
  readonly lastReloadFailed = new Gauge({ name: 'gpu_admission_policy_last_reload_failed', help: '1 when the last policy change was rejected (the previous generation keeps serving)', registers: [this.registry], aggregator: 'max' });
  readonly certExpiry = new Gauge({ name: 'gpu_admission_certificate_expiry_timestamp_seconds', help: 'notAfter of the serving certificate', registers: [this.registry], aggregator: 'min' });
  private syncedSource?: () => { resources: readonly string[]; synced: ReadonlySet<string> };
  readonly informerSynced: Gauge<'resource'>;

  constructor(defaults = true) {
    const metrics = this;
    // Read from the cluster cache when scraped: no state kept twice, no timer.
    this.informerSynced = new Gauge({
      name: 'gpu_admission_informer_synced', help: '1 once a cluster watch has its initial list', labelNames: ['resource'] as const, registers: [this.registry], aggregator: 'min',
      collect() {
        const source = metrics.syncedSource?.();
        if (source) for (const r of source.resources) this.set({ resource: r }, source.synced.has(r) ? 1 : 0);
      },
    });
    if (defaults) collectDefaultMetrics({ register: this.registry, prefix: 'gpu_admission_' });
  }

  /**
   * Counts since the last scrape, by label child. The request path adds one to a number found by
   * one string; prom-client gets the sums when it is scraped (the counters' collect), instead of
   * hashing the label object on every increment. A review's labels repeat (a few endpoints,
   * decisions, policies and rules), so the map stays small.
   */
  private readonly pending = new Map<string, { child: { inc(n: number): void }; n: number }>();
  private readonly durations = new Map<string, { observe(v: number): void }>();

  private count(key: string, make: () => { inc(n: number): void }): void {
    let p = this.pending.get(key);
    if (p === undefined) {
      // Policies and rules are bounded by the loaded policy set; a reload may bring new names.
      if (this.pending.size > 10_000) {
        this.flush();
        this.pending.clear();
      }
      p = { child: make(), n: 0 };
      this.pending.set(key, p);
    }
    p.n++;
  }

  private flush(): void {
    for (const p of this.pending.values()) {
      if (p.n === 0) continue;
      p.child.inc(p.n);
      p.n = 0;
    }
  }

  review(endpoint: string, operation: string, decision: string, v: Verdict, ms: number): void {
    const policy = v.policy?.name ?? 'none';
    this.count(`r\0${endpoint}\0${operation}\0${decision}\0${policy}`, () => this.reviews.labels({ endpoint, operation, decision, policy }));
    let d = this.durations.get(endpoint);
    if (d === undefined) this.durations.set(endpoint, (d = this.duration.labels({ endpoint })));
    d.observe(ms);
    for (const f of v.denials) this.finding(f.ruleId, 'deny');
    for (const f of v.warnings) this.finding(f.ruleId, 'warn');
    for (const f of v.recorded) this.finding(f.ruleId, 'audit');
    for (const n of v.notes) this.count(`m\0${n.mutator}`, () => this.mutations.labels({ mutator: n.mutator }));
    if (v.overBudget !== undefined) this.overBudget.inc({ endpoint });
  }

  /** What the review memo did for one review: hit, miss or skipped. */
  memoResult(endpoint: string, result: 'hit' | 'miss' | 'skipped'): void {
    this.count(`c\0${endpoint}\0${result}`, () => this.memo.labels({ endpoint, result }));
  }

  private finding(rule: string, outcome: string): void {
    this.count(`f\0${rule}\0${outcome}`, () => this.violations.labels({ rule, outcome }));
  }

  /** Where informer sync state comes from (the cluster cache), when there is a cluster view. */
  watchSync(source: () => { resources: readonly string[]; synced: ReadonlySet<string> }): void {
    this.syncedSource = source;
  }

  error(status: number): void {
    this.failures.inc({ status: String(status) });
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }
}
