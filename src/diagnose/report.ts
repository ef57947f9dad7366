/** Pods (and the workload that owns them) -> the report, and its rendering for people. */
import type { V1Pod, V1PodSpec } from '@kubernetes/client-node';
import { analyseAccelerators } from '../workload/accelerators.js';
import { diagnosePod, quotaSteps } from './pod.js';
import { EXIT, type DiagnoseContext, type DiagnoseReport, type PodDiagnosis, type Snapshot, type Step } from './types.js';

export interface WorkloadTarget {
  /** `deployment`, `statefulset`, `job`, … as the user wrote it. */
  kind: string;
  name: string;
  /** Replicas it wants (spec.replicas, spec.parallelism), when it says. */
  desired?: number;
  /** Names of the objects that create its Pods (the Deployment's ReplicaSets, the StatefulSet, the Job). */
  creators: string[];
  /** Its Pod template's spec, for the accelerator resources it asks for. */
  template?: V1PodSpec;
}

export interface Target {
  /** `pod/x`, `deployment/y`, `pending`. */
  ref: string;
  namespace: string;
  workload?: WorkloadTarget;
}

function workloadSteps(w: WorkloadTarget, ns: string, pods: V1Pod[], snap: Snapshot, ctx: DiagnoseContext): Step[] {
  const steps: Step[] = [];
  const resources = w.template ? analyseAccelerators(w.template, ctx.matcher).resources : [];
  const failed = (snap.events ?? []).filter((e) => e.reason === 'FailedCreate' && w.creators.includes(e.involvedObject?.name ?? ''))
    .sort((a, b) => new Date(String(b.lastTimestamp ?? b.eventTime ?? 0)).getTime() - new Date(String(a.lastTimestamp ?? a.eventTime ?? 0)).getTime());
  const short = w.desired !== undefined && pods.length < w.desired;
  const evidence = [`${w.kind}/${w.name}: ${pods.length} Pod(s)${w.desired !== undefined ? ` of ${w.desired} wanted` : ''}`,
    ...failed.slice(0, 3).map((e) => `event FailedCreate on ${e.involvedObject.kind?.toLowerCase()}/${e.involvedObject.name}: ${e.message}`)];
  const quota = failed.find((e) => /exceeded quota/.test(e.message ?? ''));
  const denied = failed.find((e) => /admission webhook .* denied the request/.test(e.message ?? ''));
  if (quota && resources.length > 0) {
    const q = quotaSteps(ns, resources, snap, true);
    if (q.status === 'cause') steps.push({ ...q, evidence: [...evidence, ...q.evidence] });
    else steps.push({ id: 'workload', title: 'Pods of the workload', status: 'cause', summary: 'its controller cannot create Pods: quota exceeded', evidence: [...evidence, ...q.evidence], fix: 'raise the namespace\'s ResourceQuota or free it' });
  } else if (quota) {
    steps.push({ id: 'quota', title: 'resource quota', status: 'cause', summary: 'its controller cannot create Pods: quota exceeded', evidence, fix: 'raise the namespace\'s ResourceQuota or free it' });
  } else if (denied) {
    steps.push({ id: 'workload', title: 'Pods of the workload', status: 'cause', summary: `the admission webhook refuses its Pods: ${(denied.message ?? '').replace(/^.*denied the request:\s*/, '')}`, evidence, fix: 'fix the Pod template as the message says (gpu-admission audit on the manifest shows every finding)' });
  } else if (short || pods.length === 0) {
    const q = resources.length > 0 ? quotaSteps(ns, resources, snap, true) : undefined;
    if (q?.status === 'cause') steps.push({ ...q, evidence: [...evidence, ...q.evidence] });
    else steps.push({ id: 'workload', title: 'Pods of the workload', status: pods.length === 0 ? 'unknown' : 'ok', summary: pods.length === 0 ? 'it has no Pods and no FailedCreate event says why (scaled to zero, suspended, or its controller is not running)' : `${pods.length} of ${w.desired} Pods exist`, evidence });
  }
  return steps;
}

function summarise(target: Target, workload: Step[], pods: PodDiagnosis[]): { verdict: string; outcome: DiagnoseReport['outcome'] } {
  const wl = workload.find((s) => s.status === 'cause');
  if (wl) return { verdict: `${target.ref} has missing Pods because ${wl.summary}`, outcome: 'cause' };
  const caused = pods.filter((p) => p.outcome === 'cause');
  if (pods.length === 0) {
    return target.ref === 'pending' ? { verdict: `no Pending accelerator Pod in namespace ${target.namespace}`, outcome: 'ok' } : { verdict: workload[0]?.summary ?? `${target.ref}: no Pods found`, outcome: workload[0]?.status === 'unknown' ? 'unknown' : 'ok' };
  }
  if (pods.length === 1) return { verdict: pods[0]!.verdict, outcome: pods[0]!.outcome };
  if (caused.length > 0) return { verdict: `${caused.length} of ${pods.length} Pods: ${caused[0]!.verdict.charAt(0).toLowerCase()}${caused[0]!.verdict.slice(1)}`, outcome: 'cause' };
  const unknown = pods.filter((p) => p.outcome === 'unknown');
  if (unknown.length > 0) return { verdict: `${unknown.length} of ${pods.length} Pods: could not tell why`, outcome: 'unknown' };
  return { verdict: `${pods.length} Pods: nothing wrong found`, outcome: 'ok' };
}

export function diagnose(target: Target, pods: V1Pod[], snap: Snapshot, ctx: DiagnoseContext): DiagnoseReport {
  const diagnosed = pods.map((p) => diagnosePod(p, snap, ctx));
  const workload = target.workload ? workloadSteps(target.workload, target.namespace, pods, snap, ctx) : [];
  const { verdict, outcome } = summarise(target, workload, diagnosed);
  return { apiVersion: 'gpu-admission.io/v1alpha1', kind: 'Diagnosis', target: target.ref, namespace: target.namespace, verdict, outcome, workload, pods: diagnosed, unreadable: snap.unreadable };
}

export function exitCode(r: DiagnoseReport): number {
  return EXIT[r.outcome];
}

const MARK: Record<Step['status'], string> = { cause: '✗', ok: '✓', unknown: '?', skip: '-' };

function renderSteps(steps: Step[], indent: string): string[] {
  const out: string[] = [];
  steps.forEach((s, i) => {
    out.push(`${indent}${i + 1}. ${MARK[s.status]} ${s.title}: ${s.summary}`);
    if (s.status === 'cause' || s.status === 'unknown') for (const e of s.evidence) out.push(`${indent}     ${e}`);
    if (s.fix && s.status === 'cause') out.push(`${indent}     fix: ${s.fix}`);
  });
  return out;
}

/** For people: the verdict first, then the steps of each Pod. */
export function renderText(r: DiagnoseReport): string {
  const lines = [r.verdict, ''];
  if (r.workload.length) lines.push(`${r.target} -n ${r.namespace}:`, ...renderSteps(r.workload, '  '), '');
  for (const p of r.pods) {
    lines.push(`pod/${p.name} -n ${p.namespace} (${p.state}): ${p.verdict}`, ...renderSteps(p.steps, '  '), '');
  }
  if (r.unreadable.length) {
    lines.push('Not readable (RBAC or errors), so some steps could not tell:');
    for (const u of r.unreadable) lines.push(`  ${u.verb} ${u.resource}${u.namespace ? ` -n ${u.namespace}` : ''}: ${u.message}`);
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
