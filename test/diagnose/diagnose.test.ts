/**
 * Every cause `diagnose` names, over fixture objects (no cluster): the steps, their evidence and
 * fix, the verdict line and the exit code.
 */
import type { CoreV1Event, V1DaemonSet, V1Node, V1Pod, V1PodSpec, V1PriorityClass, V1ResourceQuota } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { diagnose, exitCode, renderText } from '../../src/diagnose/report.js';
import { diagnosePod } from '../../src/diagnose/pod.js';
import type { DiagnoseContext, PodDiagnosis, Snapshot, Step } from '../../src/diagnose/types.js';
import { acceleratorMatcher, engineFor } from '../../src/engine/build.js';
import type { PolicySet } from '../../src/policy/types.js';
import { loadPolicyDir } from '../../src/server/policy-files.js';

const POLICIES = new URL('../../policies', import.meta.url).pathname;
const GKE = 'cloud.google.com/gke-accelerator';
const GPU_TAINT = { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' };
const TOLERATE = [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }];

let set: PolicySet;
let ctx: DiagnoseContext;
beforeAll(async () => {
  set = await loadPolicyDir(POLICIES);
  ctx = { set, matcher: acceleratorMatcher(set), engine: engineFor(set) };
});

function node(name: string, accel: string | undefined, opts: { gpu?: number; capacity?: number; taints?: typeof GPU_TAINT[]; cordoned?: boolean } = {}): V1Node {
  const gpu = String(opts.gpu ?? 0);
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(accel ? { [GKE]: accel } : {}) } },
    spec: { taints: opts.taints ?? (accel ? [GPU_TAINT] : []), ...(opts.cordoned ? { unschedulable: true } : {}) },
    status: {
      capacity: { cpu: '96', memory: '1000Gi', ...(opts.capacity !== undefined || opts.gpu ? { 'nvidia.com/gpu': String(opts.capacity ?? opts.gpu) } : {}) },
      allocatable: { cpu: '96', memory: '1000Gi', ...(opts.gpu !== undefined ? { 'nvidia.com/gpu': gpu } : {}) },
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  };
}

/** An inference model server the shipped inference policy admits. */
function gpuPod(name: string, spec: Partial<V1PodSpec> = {}, extra: Partial<V1Pod> = {}, gpus = '1'): V1Pod {
  return {
    metadata: { name, namespace: 'inference', uid: `uid-${name}`, ...(extra.metadata ?? {}) },
    spec: {
      priorityClassName: 'inference-critical', priority: 1_000_000,
      containers: [{
        name: 'server', image: 'vllm/vllm-openai:v0.6.3',
        resources: { limits: { 'nvidia.com/gpu': gpus, memory: '32Gi' }, requests: { cpu: '4' } },
        readinessProbe: { httpGet: { path: '/health', port: 8000 } },
        startupProbe: { httpGet: { path: '/health', port: 8000 }, periodSeconds: 10, failureThreshold: 90 },
      }],
      nodeSelector: { [GKE]: 'nvidia-l4' }, tolerations: TOLERATE,
      ...spec,
    },
    status: { phase: 'Pending', ...(extra.status ?? {}) },
  };
}

function holder(name: string, nodeName: string, gpus: number, priority: number, ns = 'research', cls?: string): V1Pod {
  return {
    metadata: { name, namespace: ns, uid: `uid-${name}` },
    spec: { nodeName, priority, ...(cls ? { priorityClassName: cls } : {}), containers: [{ name: 'c', resources: { limits: { 'nvidia.com/gpu': String(gpus) } } }] },
    status: { phase: 'Running' },
  };
}

function failedScheduling(pod: V1Pod, message: string): CoreV1Event {
  return {
    metadata: { name: `${pod.metadata?.name}.1`, namespace: pod.metadata?.namespace },
    involvedObject: { kind: 'Pod', name: pod.metadata?.name, namespace: pod.metadata?.namespace, uid: pod.metadata?.uid },
    reason: 'FailedScheduling', message, type: 'Warning', source: { component: 'default-scheduler' }, lastTimestamp: new Date('2026-01-01T10:00:00Z'),
  };
}

const snap = (s: Partial<Snapshot>): Snapshot => ({ nodes: [], boundPods: [], daemonSets: [], priorityClasses: [], quotas: [], events: [], unreadable: [], ...s });
const stepOf = (d: PodDiagnosis, id: Step['id']): Step => d.steps.find((s) => s.id === id) as Step;

describe('Pending: the scheduler\'s own words', () => {
  it('parses the latest FailedScheduling event into the step', () => {
    const p = gpuPod('llm');
    const older = { ...failedScheduling(p, '0/1 nodes are available: 1 node(s) didn\'t match node selector.'), lastTimestamp: new Date('2026-01-01T09:00:00Z') };
    const d = diagnosePod(p, snap({ nodes: [node('l4-0', 'nvidia-l4', { gpu: 1 })], boundPods: [holder('other', 'l4-0', 1, 0)], events: [older, failedScheduling(p, '0/1 nodes are available: 1 Insufficient nvidia.com/gpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.')] }), ctx);
    const s = stepOf(d, 'scheduler');
    expect(s.status).toBe('cause');
    expect(s.summary).toBe('0 of 1 nodes fit: Insufficient nvidia.com/gpu');
    expect(s.evidence).toContain('reason: 1 node(s): Insufficient nvidia.com/gpu');
    expect(d.scheduler?.reasons[0]?.resource).toBe('nvidia.com/gpu');
  });

  it('without an event it cannot tell from the scheduler, and says why', () => {
    const d = diagnosePod(gpuPod('llm'), snap({ nodes: [node('l4-0', 'nvidia-l4', { gpu: 1 })] }), ctx);
    expect(stepOf(d, 'scheduler').status).toBe('unknown');
    expect(d.outcome).toBe('unknown');
    expect(d.verdict).toBe('Pending: could not tell why (see the steps)');
  });
});

describe('Pending: no node advertises the resource', () => {
  it('names the device plugin DaemonSet and whether its Pods run on the pool\'s nodes', () => {
    const ds: V1DaemonSet = { metadata: { name: 'nvidia-device-plugin-daemonset', namespace: 'gpu-operator', uid: 'ds-1' }, status: { desiredNumberScheduled: 0, numberReady: 0, currentNumberScheduled: 0, numberMisscheduled: 0 } };
    const d = diagnosePod(gpuPod('llm'), snap({ nodes: [node('l4-0', 'nvidia-l4', { capacity: 1, gpu: 0 }), node('cpu-0', undefined)], daemonSets: [ds] }), ctx);
    const s = stepOf(d, 'advertised');
    expect(s.status).toBe('cause');
    expect(d.verdict).toBe('Pending because no node advertises nvidia.com/gpu (device plugin missing or unhealthy)');
    expect(s.evidence).toEqual(expect.arrayContaining([
      'node/l4-0 status.capacity nvidia.com/gpu=1 but status.allocatable nvidia.com/gpu=0: the device plugin reports the devices unhealthy',
      'daemonset/nvidia-device-plugin-daemonset -n gpu-operator status: desired 0, ready 0, available 0',
      'daemonset/nvidia-device-plugin-daemonset -n gpu-operator: 0 running Pod(s) on the 1 pool node(s)',
    ]));
    expect(s.fix).toContain('nodeSelector and tolerations');
    expect(exitCode(diagnose({ ref: 'pod/llm', namespace: 'inference' }, [gpuPod('llm')], snap({ nodes: [node('cpu-0', undefined)] }), ctx))).toBe(1);
  });

  it('without any device plugin DaemonSet it names the one it expected', () => {
    const d = diagnosePod(gpuPod('llm'), snap({ nodes: [node('cpu-0', undefined)] }), ctx);
    expect(stepOf(d, 'advertised').evidence).toContain('no device plugin DaemonSet found (expected nvidia-device-plugin-daemonset)');
    expect(stepOf(d, 'advertised').fix).toContain('install the NVIDIA GPU Operator');
  });
});

describe('Pending: nodes advertise it but none has enough free', () => {
  const nodes = [node('l4-0', 'nvidia-l4', { gpu: 2 })];

  it('lists the holders; a lower-priority holder means preemption can help', () => {
    const d = diagnosePod(gpuPod('llm', {}, {}, '2'), snap({ nodes, boundPods: [holder('exp', 'l4-0', 1, 1000, 'research', 'research'), holder('done', 'l4-0', 1, 0, 'research')].map((p, i) => (i === 1 ? { ...p, status: { phase: 'Succeeded' } } : p)) }), ctx);
    const s = stepOf(d, 'free');
    expect(s.status).toBe('cause');
    expect(s.evidence).toContain('node/l4-0 nvidia.com/gpu: allocatable 2, requested by bound Pods 1, free 1 (needs 2)');
    expect(s.evidence).toContain('  held by pod/exp -n research: 1 nvidia.com/gpu, priority 1000 (research)');
    expect(s.fix).toMatch(/^preemption can free room: 1 lower-priority Pod/);
    expect(d.verdict).toBe('Pending because the 1 node(s) that fit have too few free nvidia.com/gpu (needs 2 per Pod)');
  });

  it('a class with preemptionPolicy Never may not preempt', () => {
    const classes: V1PriorityClass[] = [{ metadata: { name: 'inference-critical' }, value: 1_000_000, preemptionPolicy: 'Never' }];
    const d = diagnosePod(gpuPod('llm'), snap({ nodes, priorityClasses: classes, boundPods: [holder('exp', 'l4-0', 2, 1000)] }), ctx);
    expect(stepOf(d, 'free').fix).toContain('may not preempt (priorityclass/inference-critical preemptionPolicy: Never)');
  });

  it('holders of equal or higher priority: no preemption', () => {
    const d = diagnosePod(gpuPod('llm'), snap({ nodes, boundPods: [holder('other-server', 'l4-0', 2, 1_000_000, 'inference')] }), ctx);
    expect(stepOf(d, 'free').fix).toMatch(/^no lower-priority Pod to preempt/);
  });

  it('enough free: the step passes', () => {
    const d = diagnosePod(gpuPod('llm'), snap({ nodes, boundPods: [holder('exp', 'l4-0', 1, 0)] }), ctx);
    expect(stepOf(d, 'free').status).toBe('ok');
  });
});

describe('Pending: node selection', () => {
  const nodes = [node('l4-0', 'nvidia-l4', { gpu: 1 }), node('t4-0', 'nvidia-tesla-t4', { gpu: 1 })];

  it('a selection that matches no advertising node', () => {
    const d = diagnosePod(gpuPod('llm', { nodeSelector: { [GKE]: 'nvidia-h100-80gb' } }), snap({ nodes }), ctx);
    const s = stepOf(d, 'selection');
    expect(s.status).toBe('cause');
    expect(s.summary).toBe("the Pod's nodeSelector/affinity matches none of the 2 node(s) that advertise nvidia.com/gpu");
    expect(s.evidence).toContain(`spec.nodeSelector[${GKE}]: ${GKE}=nvidia-h100-80gb`);
    expect(s.fix).toContain(`nodeSelector {"${GKE}":"nvidia-l4"}`);
    expect(d.verdict).toMatch(/^Pending because the Pod's nodeSelector\/affinity matches none/);
  });

  it('a selection that matches only nodes of pools the namespace may not use', () => {
    const d = diagnosePod(gpuPod('llm', { nodeSelector: { [GKE]: 'nvidia-tesla-t4' } }), snap({ nodes }), ctx);
    const s = stepOf(d, 'selection');
    expect(s.status).toBe('cause');
    expect(s.summary).toBe("the Pod's selection matches only nodes of pool(s) t4 that namespace inference may not use (policy realtime-inference)");
    expect(s.fix).toBe('select one of the namespace\'s pools: l4, a100-80gb');
  });
});

describe('Pending: untolerated taints', () => {
  it('names the taint of every node that would otherwise fit, and the toleration', () => {
    const d = diagnosePod(gpuPod('llm', { tolerations: [] }), snap({ nodes: [node('l4-0', 'nvidia-l4', { gpu: 1 })] }), ctx);
    const s = stepOf(d, 'taints');
    expect(s.status).toBe('cause');
    expect(s.evidence).toEqual(['node/l4-0 spec.taints: nvidia.com/gpu=present:NoSchedule']);
    expect(s.fix).toBe('add to spec.tolerations: [{"key":"nvidia.com/gpu","operator":"Equal","value":"present","effect":"NoSchedule"}]');
    expect(d.verdict).toBe('Pending because every node that would otherwise fit has a taint the Pod does not tolerate');
  });

  it('a cordoned node', () => {
    const d = diagnosePod(gpuPod('llm'), snap({ nodes: [node('l4-0', 'nvidia-l4', { gpu: 1, cordoned: true })] }), ctx);
    expect(stepOf(d, 'taints').evidence).toEqual(['node/l4-0 spec.unschedulable: true (cordoned)']);
    expect(stepOf(d, 'taints').fix).toContain('uncordon');
  });
});

describe('Pending: scheduling gates and queues', () => {
  it('a Kueue gate and queue name', () => {
    const p = gpuPod('llm', { schedulingGates: [{ name: 'kueue.x-k8s.io/admission' }] }, { metadata: { name: 'llm', namespace: 'inference', uid: 'uid-llm', labels: { 'kueue.x-k8s.io/queue-name': 'team-a' } } });
    const d = diagnosePod(p, snap({ nodes: [node('l4-0', 'nvidia-l4', { gpu: 1 })] }), ctx);
    const s = stepOf(d, 'queue');
    expect(s.status).toBe('cause');
    expect(s.evidence).toEqual(['pod/llm spec.schedulingGates[0].name: kueue.x-k8s.io/admission', 'pod/llm metadata.labels[kueue.x-k8s.io/queue-name]: team-a (Kueue LocalQueue)']);
    expect(d.verdict).toBe('Pending because the Pod waits on scheduling gate(s) kueue.x-k8s.io/admission and queue team-a (Kueue LocalQueue): the scheduler does not look at it until the gate is removed');
  });

  it('a Volcano queue under its own scheduler', () => {
    const p = gpuPod('trainer', { schedulerName: 'volcano' }, { metadata: { name: 'trainer', namespace: 'inference', uid: 'u', annotations: { 'scheduling.volcano.sh/queue-name': 'research', 'scheduling.k8s.io/group-name': 'job-1' } } });
    const s = stepOf(diagnosePod(p, snap({ nodes: [node('l4-0', 'nvidia-l4', { gpu: 1 })] }), ctx), 'queue');
    expect(s.status).toBe('cause');
    expect(s.summary).toContain('handled by volcano');
  });
});

describe('quota', () => {
  const quota: V1ResourceQuota = { metadata: { name: 'gpu', namespace: 'inference' }, spec: { hard: { 'requests.nvidia.com/gpu': '4' } }, status: { hard: { 'requests.nvidia.com/gpu': '4' }, used: { 'requests.nvidia.com/gpu': '4' } } };
  const template = gpuPod('t').spec as V1PodSpec;

  it('a Deployment whose ReplicaSet cannot create Pods: quota used up', () => {
    const ev: CoreV1Event = {
      metadata: { name: 'llm-7d9f.1' }, involvedObject: { kind: 'ReplicaSet', name: 'llm-7d9f', namespace: 'inference' }, reason: 'FailedCreate', type: 'Warning',
      message: 'Error creating: pods "llm-7d9f-x2" is forbidden: exceeded quota: gpu, requested: requests.nvidia.com/gpu=1, used: requests.nvidia.com/gpu=4, limited: requests.nvidia.com/gpu=4',
    };
    const r = diagnose({ ref: 'deployment/llm', namespace: 'inference', workload: { kind: 'deployment', name: 'llm', desired: 2, creators: ['llm-7d9f'], template } }, [], snap({ quotas: [quota], events: [ev] }), ctx);
    expect(r.outcome).toBe('cause');
    expect(r.verdict).toBe("deployment/llm has missing Pods because the namespace's quota is used up: resourcequota/gpu requests.nvidia.com/gpu (4/4)");
    expect(r.workload[0]?.evidence).toContain('resourcequota/gpu -n inference requests.nvidia.com/gpu: used 4 of hard 4');
    expect(renderText(r).split('\n')[0]).toBe(r.verdict);
  });

  it('a Pending Pod already admitted: quota full is noted, not the cause', () => {
    const d = diagnosePod(gpuPod('llm'), snap({ nodes: [node('l4-0', 'nvidia-l4', { gpu: 1 })], quotas: [quota] }), ctx);
    expect(stepOf(d, 'quota')).toMatchObject({ status: 'ok', summary: expect.stringContaining('quota used up') });
  });
});

describe('restarting', () => {
  const started = new Date('2026-01-01T10:00:00Z');
  const finished = new Date('2026-01-01T10:01:30Z');

  it('OOMKilled against its memory limit', () => {
    const p = gpuPod('llm', { nodeName: 'l4-0' }, { status: { phase: 'Running', containerStatuses: [{ name: 'server', ready: false, restartCount: 4, image: 'x', imageID: 'x', state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { reason: 'OOMKilled', exitCode: 137, startedAt: started, finishedAt: finished } } }] } });
    const d = diagnosePod(p, snap({}), ctx);
    expect(d.state).toBe('restarting');
    expect(d.verdict).toBe('Restarting because container "server" was OOMKilled at its memory limit 32Gi');
    expect(stepOf(d, 'restarts').evidence).toContain('pod/llm status.containerStatuses[name=server].lastState.terminated: reason OOMKilled, exitCode 137, ran 90s');
  });

  it('a liveness probe that killed it before its start-up budget, with the startupProbe the policy would give', () => {
    const p = gpuPod('llm', { nodeName: 'l4-0' }, { status: { phase: 'Running', containerStatuses: [{ name: 'server', ready: false, restartCount: 3, image: 'x', imageID: 'x', state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { reason: 'Error', exitCode: 137, startedAt: started, finishedAt: finished } } }] } });
    const c = p.spec!.containers[0]!;
    delete c.startupProbe;
    c.livenessProbe = { httpGet: { path: '/health', port: 8000 }, initialDelaySeconds: 30, periodSeconds: 10, failureThreshold: 3 };
    const ev: CoreV1Event = { metadata: { name: 'e' }, involvedObject: { kind: 'Pod', name: 'llm', uid: 'uid-llm', fieldPath: 'spec.containers{server}' }, reason: 'Killing', message: 'Container server failed liveness probe, will be restarted' };
    const d = diagnosePod(p, snap({ events: [ev] }), ctx);
    const s = stepOf(d, 'liveness');
    expect(s.status).toBe('cause');
    expect(d.verdict).toBe('Restarting because the liveness probe killed "server" before it finished starting: its start-up cover is 60s, it ran 90s (no startupProbe)');
    expect(s.evidence).toContain('policy realtime-inference startupProbe.minBudgetSeconds: 900');
    expect(s.fix).toContain('the namespace policy gives it this startupProbe (budget 900s)');
  });
});

describe('bound, not started; restarted once, ready now', () => {
  it('a bound Pod stuck on its image', () => {
    const p = gpuPod('llm', { nodeName: 'l4-0' }, { status: { phase: 'Pending', containerStatuses: [{ name: 'server', ready: false, restartCount: 0, image: 'x', imageID: '', state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "vllm/vllm-openai:v0.6.3"' } } }] } });
    const d = diagnosePod(p, snap({}), ctx);
    expect(d.verdict).toBe('Pending because container "server" cannot start: ImagePullBackOff');
    expect(stepOf(d, 'restarts').fix).toContain('imagePullSecrets');
  });

  it('a container that restarted and is ready again is history, not a cause', () => {
    const p = gpuPod('llm', { nodeName: 'l4-0' }, { status: { phase: 'Running', containerStatuses: [{ name: 'server', ready: true, restartCount: 1, image: 'x', imageID: 'x', state: { running: { startedAt: new Date() } }, lastState: { terminated: { reason: 'OOMKilled', exitCode: 137 } } }] } });
    const d = diagnosePod(p, snap({}), ctx);
    expect(stepOf(d, 'restarts')).toMatchObject({ status: 'ok', summary: 'container "server" restarted 1 time(s) and is ready now (last OOMKilled, exit code 137)' });
    expect(d.outcome).toBe('ok');
  });
});

describe('the webhook would now deny it', () => {
  it('a Pod created before the policy required a memory limit', () => {
    const p = gpuPod('llm', { nodeName: 'l4-0' }, { status: { phase: 'Running' } });
    delete p.spec!.containers[0]!.resources!.limits!['memory'];
    const d = diagnosePod(p, snap({}), ctx);
    const s = stepOf(d, 'webhook');
    expect(s.status).toBe('cause');
    expect(d.verdict).toMatch(/^Running, but the webhook would now deny it \(policy realtime-inference as it is today; a re-created Pod is refused\)/);
    expect(s.evidence.some((e) => e.includes('resources.limits'))).toBe(true);
  });
});

describe('namespaces the webhook never sees', () => {
  it('a kube-system Pod is not judged by the webhook step', () => {
    const p = gpuPod('plugin', { nodeName: 'l4-0' }, { metadata: { name: 'plugin', namespace: 'kube-system', uid: 'u' }, status: { phase: 'Running' } });
    delete p.spec!.containers[0]!.resources!.limits!['memory'];
    expect(stepOf(diagnosePod(p, snap({}), ctx), 'webhook')).toMatchObject({ status: 'skip', summary: 'namespace kube-system is never sent to the webhook (the shipped namespaceSelector)' });
  });
});

describe('nothing wrong, and what cannot be read', () => {
  it('a running admitted Pod: exit 0', () => {
    const p = gpuPod('llm', { nodeName: 'l4-0' }, { status: { phase: 'Running', containerStatuses: [{ name: 'server', ready: true, restartCount: 0, image: 'x', imageID: 'x' }] } });
    const r = diagnose({ ref: 'pod/llm', namespace: 'inference' }, [p], snap({}), ctx);
    expect(r.pods[0]?.steps.find((s) => s.id === 'webhook')?.status).toBe('ok');
    expect(r.verdict).toBe('Running: nothing wrong found');
    expect(exitCode(r)).toBe(0);
  });

  it('nodes refused by RBAC: the steps that need them say so; exit 2 when nothing else explains it', () => {
    const s = snap({ unreadable: [{ verb: 'list', resource: 'nodes', message: 'forbidden by RBAC: grant verb "list" on resource "nodes" (cluster-wide)' }] });
    delete s.nodes;
    const r = diagnose({ ref: 'pod/llm', namespace: 'inference' }, [gpuPod('llm')], s, ctx);
    const adv = r.pods[0]!.steps.find((x) => x.id === 'advertised')!;
    expect(adv.status).toBe('unknown');
    expect(adv.evidence).toEqual(['cannot list nodes: forbidden by RBAC: grant verb "list" on resource "nodes" (cluster-wide)']);
    expect(exitCode(r)).toBe(2);
    expect(renderText(r)).toContain('Not readable (RBAC or errors)');
  });

  it('--pending with no Pending Pod: exit 0', () => {
    expect(exitCode(diagnose({ ref: 'pending', namespace: 'inference' }, [], snap({}), ctx))).toBe(0);
  });
});
