import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/server/metrics.js';

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
});
