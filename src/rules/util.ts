import type { Finding, PodAnalysis, RuleResult } from '../engine/types.js';
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

const PASS: RuleResult = Object.freeze({ status: 'pass' });

export function pass(): RuleResult {
  return PASS;
}

export function skip(reason: string): RuleResult {
  return { status: 'skip', reason };
}

/** Fails with the findings, or passes when there are none. */
export function fail(findings: Finding[]): RuleResult {
  return findings.length > 0 ? { status: 'fail', findings } : PASS;
}
