/**
 * The documents onboarding produces, from a Plan: the NamespacePolicy (a policy file) and the
 * cluster objects (Namespace, ResourceQuotas, LimitRange, PriorityClasses). Pure and deterministic:
 * the same plan gives the same bytes, which is what makes onboarding idempotent.
 */
import { formatSeconds } from '../util/duration.js';
import { dumpYaml } from '../util/yaml.js';
import { API_VERSION } from '../policy/types.js';
import type { Plan } from './plan.js';
import type { ProfileSetting } from './profiles.js';

export type DocRole = 'policy' | 'namespace' | 'quota' | 'limitrange' | 'priorityclass';

export interface GeneratedDoc {
  role: DocRole;
  /** Path relative to --out. */
  file: string;
  object: Record<string, unknown>;
}

export interface OutputFile {
  path: string;
  text: string;
}

export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'gpu-admission' } as const;
export const PROFILE_LABEL = 'gpu-admission.io/profile';
export const QUOTA_NAME = 'gpu-admission-accelerators';
export const PRIORITY_QUOTA_NAME = 'gpu-admission-priority';
export const LIMIT_RANGE_NAME = 'gpu-admission-defaults';
/** Cluster objects go below the policy directory: the webhook loads only the directory's top level. */
export const MANIFESTS_DIR = 'manifests';

export function policyFileName(namespace: string): string {
  return `${namespace}.policy.yaml`;
}

function policyObject(p: Plan): Record<string, unknown> {
  return {
    apiVersion: API_VERSION,
    kind: 'NamespacePolicy',
    metadata: { name: p.policyName, labels: { [PROFILE_LABEL]: p.profile.name } },
    spec: {
      description: `${p.profile.summary}: namespace ${p.namespace}, onboarded with the ${p.profile.name} profile`,
      namespaces: { names: [p.namespace] },
      mode: p.mode,
      accelerators: { allowed: true, pools: p.pools, ...(p.defaultPool ? { defaultPool: p.defaultPool } : {}), maxPerPod: p.maxPerPod },
      startupProbe: { minBudgetSeconds: p.startupBudgetSeconds },
      terminationGracePeriodSeconds: p.graceSeconds,
      priority: { defaultClass: p.priority.name, allowedClasses: [p.priority.name] },
      requirements: { ...p.profile.requirements },
      ...structuredClone(p.profile.workload),
    },
  };
}

const labelled = (p: Plan): Record<string, string> => ({ ...MANAGED_BY, [PROFILE_LABEL]: p.profile.name });

function quotaObjects(p: Plan): Record<string, unknown>[] {
  if (p.quotaResources.length === 0) return [];
  const hard = Object.fromEntries(p.quotaResources.map((r) => [`requests.${r}`, String(p.gpuQuota)]));
  const quotas: Record<string, unknown>[] = [{
    apiVersion: 'v1', kind: 'ResourceQuota',
    metadata: { name: QUOTA_NAME, namespace: p.namespace, labels: labelled(p) },
    spec: { hard },
  }];
  if (p.profile.priorityQuota) {
    quotas.push({
      apiVersion: 'v1', kind: 'ResourceQuota',
      metadata: { name: PRIORITY_QUOTA_NAME, namespace: p.namespace, labels: labelled(p) },
      spec: {
        // Each accelerator Pod holds at least one device, so the device quota bounds the Pods too.
        hard: { pods: String(p.gpuQuota), ...hard },
        scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In', values: [p.priority.name] }] },
      },
    });
  }
  return quotas;
}

function limitRangeObject(p: Plan): Record<string, unknown> | undefined {
  const lr = p.profile.limitRange;
  if (!lr) return undefined;
  return {
    apiVersion: 'v1', kind: 'LimitRange',
    metadata: { name: LIMIT_RANGE_NAME, namespace: p.namespace, labels: labelled(p) },
    spec: { limits: [{ type: 'Container', defaultRequest: { ...lr.defaultRequest } }] },
  };
}

function priorityClassObject(p: Plan): Record<string, unknown> {
  const pc = p.priority;
  return {
    apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass',
    metadata: { name: pc.name, labels: { ...MANAGED_BY } },
    value: pc.value,
    preemptionPolicy: pc.preemptionPolicy,
    globalDefault: false,
    description: pc.description,
  };
}

/**
 * Every document: the policy first (what a reviewer reads first), then the cluster objects in the
 * order they are applied: cluster-scoped, the namespace, then what lives in it.
 */
export function generate(p: Plan): GeneratedDoc[] {
  const ns = p.namespace;
  const docs: GeneratedDoc[] = [{ role: 'policy', file: policyFileName(ns), object: policyObject(p) }];
  if (!p.priorityExists) docs.push({ role: 'priorityclass', file: `${MANIFESTS_DIR}/priorityclass.${p.priority.name}.yaml`, object: priorityClassObject(p) });
  docs.push({ role: 'namespace', file: `${MANIFESTS_DIR}/${ns}.namespace.yaml`, object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { ...p.labels } } } });
  for (const q of quotaObjects(p)) docs.push({ role: 'quota', file: `${MANIFESTS_DIR}/${ns}.resourcequota.yaml`, object: q });
  const lr = limitRangeObject(p);
  if (lr) docs.push({ role: 'limitrange', file: `${MANIFESTS_DIR}/${ns}.limitrange.yaml`, object: lr });
  return docs;
}

const SETTING_LINES: [ProfileSetting, (p: Plan) => string, string][] = [
  ['mode', (p) => `mode ${p.mode}`, '--mode'],
  ['pools', (p) => `pools ${p.pools.join(', ')}${p.defaultPool ? ` (default ${p.defaultPool})` : ''}`, '--pools'],
  ['maxPerPod', (p) => `maxPerPod ${p.maxPerPod}`, '--max-gpus-per-pod'],
  ['gpuQuota', (p) => `quota ${p.gpuQuota} per accelerator resource`, '--gpu-quota'],
  ['startupBudget', (p) => `startup budget ${formatSeconds(p.startupBudgetSeconds)}`, '--startup-budget'],
  ['grace', (p) => `termination grace ${formatSeconds(p.graceSeconds)}`, '--grace'],
  ['priority', (p) => `priority ${p.priority.name} (${p.priority.value}, ${p.priority.preemptionPolicy})`, '--priority'],
  ['requirements', (p) => `requirements memoryLimit ${p.profile.requirements.memoryLimit}, cpuRequest ${p.profile.requirements.cpuRequest}, readinessProbe ${p.profile.requirements.readinessProbe}`, ''],
  ['rollout', (p) => {
    const r = p.profile.workload.rollout;
    return r ? `rollout progressDeadlineSeconds ${r.progressDeadlineSeconds}, surgeOnly ${r.surgeOnly}, recreate ${r.recreate}` : 'rollout checks off (default)';
  }, ''],
  ['disruption', (p) => `disruption protect ${p.profile.workload.disruption?.protect ?? 'training (default)'}`, ''],
  ['gang', (p) => `gang ${p.profile.workload.gang?.mode ?? 'off (default)'}`, ''],
];

function policyHeader(p: Plan): string[] {
  const lines = [
    '# yaml-language-server: $schema=./schema.json',
    `# Namespace ${p.namespace}: ${p.profile.summary} (profile ${p.profile.name}), written by gpu-admission onboard.`,
    '# Review it before merging. Where each setting comes from:',
  ];
  for (const [setting, text, flag] of SETTING_LINES) {
    const why = p.defaulted.has(setting) ? p.profile.why[setting] : `set with ${flag}`;
    lines.push(`#   ${text(p)}: ${why}`);
  }
  return lines;
}

function header(d: GeneratedDoc, p: Plan): string[] {
  switch (d.role) {
    case 'policy': return policyHeader(p);
    case 'priorityclass': return ['# Cluster-wide and shared by every namespace that uses it: created once. Its value cannot change later.'];
    case 'quota': return d.object['metadata'] && (d.object['metadata'] as { name?: string }).name === PRIORITY_QUOTA_NAME
      ? [`# The namespace's permit to use the preempting class ${p.priority.name}, and its cap (see ResourceQuota limitedResources).`]
      : [`# Accelerators the namespace may hold at once: ${p.gpuQuota} of each resource its pools offer.`];
    case 'limitrange': return [`# LimitRange: ${p.profile.why.limitRange}.`];
    case 'namespace': return [`# Governed by NamespacePolicy "${p.policyName}", which names it (labels a tenant can change never decide its policy).`];
  }
}

/** The files to write, one per distinct path, documents in generation order. */
export function render(docs: GeneratedDoc[], p: Plan): OutputFile[] {
  const byFile = new Map<string, string[]>();
  for (const d of docs) {
    const text = [...header(d, p), dumpYaml(d.object).trimEnd()].join('\n');
    byFile.set(d.file, [...(byFile.get(d.file) ?? []), text]);
  }
  return [...byFile].map(([path, parts]) => ({ path, text: `${parts.join('\n---\n')}\n` }));
}

/** All files as one multi-document YAML stream (stdout). */
export function renderStream(files: OutputFile[]): string {
  return files.map((f) => `# ${f.path}\n${f.text}`).join('---\n');
}
