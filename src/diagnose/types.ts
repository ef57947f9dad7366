import type { CoreV1Event, V1DaemonSet, V1Node, V1Pod, V1PriorityClass, V1ResourceQuota } from '@kubernetes/client-node';
import type { Engine } from '../engine/engine.js';
import type { PolicySet } from '../policy/types.js';
import type { AcceleratorMatcher } from '../workload/accelerators.js';
import type { SchedulerMessage } from './events.js';

/** A read the API server refused (RBAC) or that failed: what was missing. */
export interface Unreadable {
  verb: 'get' | 'list';
  resource: string;
  namespace?: string;
  message: string;
}

/**
 * What the cluster reader fetched. A list left undefined could not be read (see `unreadable`):
 * the steps that need it say "could not tell" instead of guessing.
 */
export interface Snapshot {
  nodes?: V1Node[];
  /** Pods bound to nodes, every namespace, not terminated: what holds the accelerators. */
  boundPods?: V1Pod[];
  daemonSets?: V1DaemonSet[];
  priorityClasses?: V1PriorityClass[];
  /** ResourceQuotas of the namespace. */
  quotas?: V1ResourceQuota[];
  /** Events of the namespace. */
  events?: CoreV1Event[];
  unreadable: Unreadable[];
}

export interface DiagnoseContext {
  matcher: AcceleratorMatcher;
  set?: PolicySet;
  /** The webhook's engine (built with the live cluster view): would-deny and the policy's startupProbe. */
  engine?: Engine;
}

export type StepStatus = 'cause' | 'ok' | 'unknown' | 'skip';

export type StepId =
  | 'scheduler' | 'advertised' | 'free' | 'selection' | 'taints' | 'queue' | 'quota'
  | 'restarts' | 'liveness' | 'webhook' | 'workload';

/** One check, in the order an engineer makes them, with its evidence and the fix. */
export interface Step {
  id: StepId;
  title: string;
  status: StepStatus;
  /** One sentence: what this check found. */
  summary: string;
  /** The objects and fields, events and nodes that show it. */
  evidence: string[];
  fix?: string;
}

export type PodState = 'pending' | 'restarting' | 'running' | 'succeeded' | 'failed' | 'unknown';

export interface PodDiagnosis {
  namespace: string;
  name: string;
  state: PodState;
  /** First line for people: `Pending because …`, `Restarting because …`, `Running: nothing wrong found`. */
  verdict: string;
  outcome: 'cause' | 'ok' | 'unknown';
  steps: Step[];
  scheduler?: SchedulerMessage;
}

export interface DiagnoseReport {
  apiVersion: 'gpu-admission.io/v1alpha1';
  kind: 'Diagnosis';
  /** What was asked: `pod/x`, `deployment/y`, `pending`. */
  target: string;
  namespace: string;
  verdict: string;
  outcome: 'cause' | 'ok' | 'unknown';
  /** Findings about the workload object itself (no Pods, quota refusing new replicas). */
  workload: Step[];
  pods: PodDiagnosis[];
  unreadable: Unreadable[];
}

export const EXIT = { ok: 0, cause: 1, unknown: 2 } as const;
