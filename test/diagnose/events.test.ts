/**
 * FailedScheduling messages of several Kubernetes versions, shaped like the ones users report:
 * NVIDIA/k8s-device-plugin#430 and #421 (1.24+ with preemption), kubernetes/kubernetes#81020 and
 * SSU-DCN/podmigration-operator#9 (1.18-1.23 "had taint {k: v}, that the pod didn't tolerate",
 * "didn't match node selector"), kubernetes/minikube#10216 (older "had taints that the pod didn't
 * tolerate"), kubernetes/kubernetes#49440 and kubernetes/kops#2730 (pre-1.10 predicate summaries),
 * yugabyte/yugabyte-db#20349 ("didn't match Pod's node affinity/selector", volume conflicts).
 */
import { describe, expect, it } from 'vitest';
import { parseSchedulerMessage } from '../../src/diagnose/events.js';

const kinds = (m: string): Array<[number | undefined, string]> => parseSchedulerMessage(m).reasons.map((r) => [r.count, r.kind]);

describe('parseSchedulerMessage', () => {
  it('1.24+: insufficient, untolerated taint, and the preemption part', () => {
    const m = parseSchedulerMessage('0/5 nodes are available: 2 Insufficient nvidia.com/gpu, 3 node(s) had untolerated taint {nvidia.com/gpu: present}. preemption: 0/5 nodes are available: 2 No preemption victims found for incoming pod, 3 Preemption is not helpful for scheduling.');
    expect(m.nodes).toBe(5);
    expect(m.reasons).toEqual([
      { count: 2, text: 'Insufficient nvidia.com/gpu', kind: 'insufficient', resource: 'nvidia.com/gpu' },
      { count: 3, text: 'node(s) had untolerated taint {nvidia.com/gpu: present}', kind: 'taint', taint: { key: 'nvidia.com/gpu', value: 'present' } },
    ]);
    expect(m.preemption?.map((r) => [r.count, r.text])).toEqual([[2, 'No preemption victims found for incoming pod'], [3, 'Preemption is not helpful for scheduling']]);
  });

  it('1.24+: a taint with an empty value, and the doubled period of some releases', () => {
    const m = parseSchedulerMessage('0/1 nodes are available: 1 node(s) had untolerated taint {gpu: }. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling..');
    expect(m.reasons[0]).toMatchObject({ count: 1, kind: 'taint', taint: { key: 'gpu', value: '' } });
    expect(m.preemption?.[0]?.text).toBe('Preemption is not helpful for scheduling');
  });

  it('1.24+: the unschedulable taint of a cordoned node is a cordon, not a toleration problem', () => {
    expect(kinds('0/2 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/unschedulable: }, 1 Insufficient nvidia.com/gpu. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.'))
      .toEqual([[1, 'unschedulable'], [1, 'insufficient']]);
  });

  it("1.26+: didn't match Pod's node affinity/selector, volume conflicts as other", () => {
    expect(kinds("0/10 nodes are available: 3 node(s) had volume node affinity conflict, 7 node(s) didn't match Pod's node affinity/selector. preemption: 0/10 nodes are available: 10 Preemption is not helpful for scheduling.."))
      .toEqual([[3, 'other'], [7, 'selector']]);
  });

  it("1.18-1.23: the taint reason carries its own comma (\"}, that the pod didn't tolerate\")", () => {
    const m = parseSchedulerMessage("0/3 nodes are available: 1 node(s) had taint {node-role.kubernetes.io/master: }, that the pod didn't tolerate, 2 Insufficient nvidia.com/gpu.");
    expect(m.nodes).toBe(3);
    expect(m.preemption).toBeUndefined();
    expect(m.reasons).toEqual([
      { count: 1, text: "node(s) had taint {node-role.kubernetes.io/master: }, that the pod didn't tolerate", kind: 'taint', taint: { key: 'node-role.kubernetes.io/master', value: '' } },
      { count: 2, text: 'Insufficient nvidia.com/gpu', kind: 'insufficient', resource: 'nvidia.com/gpu' },
    ]);
  });

  it("1.18-1.23: didn't match node selector next to a taint with a value", () => {
    expect(kinds("0/2 nodes are available: 1 node(s) didn't match node selector, 1 node(s) had taint {key1: value1}, that the pod didn't tolerate."))
      .toEqual([[1, 'selector'], [1, 'taint']]);
    expect(kinds('0/5 nodes are available: 1 node(s) had volume node affinity conflict, 4 node(s) didn\'t match node selector.')).toEqual([[1, 'other'], [4, 'selector']]);
  });

  it("1.17 and older: had taints that the pod didn't tolerate, were unschedulable", () => {
    expect(kinds("0/1 nodes are available: 1 node(s) had taints that the pod didn't tolerate.")).toEqual([[1, 'taint']]);
    expect(kinds('0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient nvidia.com/gpu.')).toEqual([[1, 'unschedulable'], [2, 'insufficient']]);
  });

  it('pre-1.10 predicate summaries', () => {
    expect(kinds('No nodes are available that match all of the following predicates:: MatchNodeSelector (3), PodToleratesNodeTaints (1).')).toEqual([[3, 'selector'], [1, 'taint']]);
    expect(kinds('pod (x) failed to fit in any node - fit failure summary on nodes : MatchNodeSelector (2), PodToleratesNodeTaints (1)')).toEqual([[2, 'selector'], [1, 'taint']]);
    expect(parseSchedulerMessage('No nodes are available that match all of the predicates: Insufficient nvidia.com/gpu (2).').reasons[0]).toMatchObject({ count: 2, kind: 'insufficient', resource: 'nvidia.com/gpu' });
  });

  it('messages without node counts stay one reason of kind other', () => {
    expect(parseSchedulerMessage('no nodes available to schedule pods').reasons).toEqual([{ text: 'no nodes available to schedule pods', kind: 'other' }]);
    expect(kinds('0/4 nodes are available: 4 pod has unbound immediate PersistentVolumeClaims.')).toEqual([[4, 'other']]);
  });
});
