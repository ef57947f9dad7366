import type { Finding, PodAnalysis } from '../engine/types.js';
import type { GpuPool } from '../policy/types.js';
import { describeTaint, repelling } from '../scheduling/tolerations.js';

export function at(a: PodAnalysis, relative: string): string {
  return `${a.target.path}.${relative}`;
}

export function finding(ruleId: string, path: string, message: string, fix: string): Finding {
  return { ruleId, path, message, fix };
}

export function quote(v: unknown): string {
  return typeof v === 'string' ? `"${v}"` : JSON.stringify(v);
}

export function poolList(pools: GpuPool[]): string {
  return pools.map((p) => p.name).join(', ') || 'none';
}

export function describePool(p: GpuPool): string {
  const labels = Object.entries(p.nodeLabels).map(([k, v]) => `${k}=${v}`).join(',');
  const taints = repelling(p.taints).map(describeTaint).join(',');
  return `${p.name} (${labels}${taints ? `; taints ${taints}` : ''})`;
}
