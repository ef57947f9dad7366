import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/engine/engine.js';
import { Metrics } from '../../src/server/metrics.js';

const verdict = (policy: string, extra: Partial<Verdict> = {}): Verdict => ({
  denials: [], warnings: [], recorded: [], notes: [], patch: [], assumptions: [],
  policy: { name: policy, mode: 'enforce', source: 'test' } as Verdict['policy'], ...extra,
} as Verdict);

describe('metrics', () => {
  it('reads informer sync state from its source when scraped', async () => {
    const m = new Metrics(false);
    const synced = new Set<string>(['namespaces']);
    m.watchSync(() => ({ resources: ['namespaces', 'nodes'], synced }));
    let text = await m.text();
    expect(text).toContain('gpu_admission_informer_synced{resource="namespaces"} 1');
    expect(text).toContain('gpu_admission_informer_synced{resource="nodes"} 0');
    synced.add('nodes');
    text = await m.text();
    expect(text).toContain('gpu_admission_informer_synced{resource="nodes"} 1');
  });

  it('has no informer series without a cluster view', async () => {
    expect(await new Metrics(false).text()).not.toContain('gpu_admission_informer_synced{');
  });

  it('counts every review, finding and mutation, scrape after scrape (counts are summed when scraped)', async () => {
    const m = new Metrics(false);
    const finding = { ruleId: 'gpu-squatting', path: 'spec.tolerations[0]', message: 'm', fix: 'f' };
    for (let i = 0; i < 3; i++) m.review('validate', 'CREATE', 'denied', verdict('inference', { denials: [finding] }), 0.2);
    m.review('mutate', 'CREATE', 'patched', verdict('inference', { notes: [{ mutator: 'tolerations', description: 'd' }] }), 0.3);
    let text = await m.text();
    expect(text).toContain('gpu_admission_reviews_total{endpoint="validate",operation="CREATE",decision="denied",policy="inference"} 3');
    expect(text).toContain('gpu_admission_rule_findings_total{rule="gpu-squatting",outcome="deny"} 3');
    expect(text).toContain('gpu_admission_mutations_total{mutator="tolerations"} 1');
    expect(text).toContain('gpu_admission_review_duration_milliseconds_count{endpoint="validate"} 3');
    m.review('validate', 'CREATE', 'denied', verdict('inference', { denials: [finding] }), 0.2);
    text = await m.text();
    expect(text).toContain('gpu_admission_reviews_total{endpoint="validate",operation="CREATE",decision="denied",policy="inference"} 4');
    expect(await m.text()).toContain('gpu_admission_reviews_total{endpoint="validate",operation="CREATE",decision="denied",policy="inference"} 4');
  });

  it('loses no count when many distinct label sets come and go between scrapes', async () => {
    const m = new Metrics(false);
    for (let i = 0; i < 10_050; i++) m.review('mutate', 'CREATE', 'allowed', verdict(`p-${i}`), 0.1);
    m.review('mutate', 'CREATE', 'allowed', verdict('p-0'), 0.1);
    const text = await m.text();
    expect(text).toContain('gpu_admission_reviews_total{endpoint="mutate",operation="CREATE",decision="allowed",policy="p-0"} 2');
    expect(text).toContain('gpu_admission_reviews_total{endpoint="mutate",operation="CREATE",decision="allowed",policy="p-10049"} 1');
  });
});
