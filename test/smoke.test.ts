import { describe, expect, it } from 'vitest';
import { validatePod } from '../src/engine/evaluate.js';
import { analysisOf, gpuToleration, podSpec, policy } from './support/fixtures.js';

describe('fixtures', () => {
  it('a correct GPU pod passes the default policy', () => {
    const a = analysisOf(podSpec({ tolerations: [gpuToleration()], nodeSelector: { 'cloud.google.com/gke-accelerator': 'nvidia-l4' } }), policy());
    expect(validatePod(a)).toEqual([]);
  });
});
