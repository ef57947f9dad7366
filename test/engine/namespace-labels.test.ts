import { describe, expect, it } from 'vitest';
import { guardedLabelKeys } from '../../src/engine/namespace-labels.js';
import type { EngineRequest } from '../../src/engine/engine.js';
import { engine, policy } from '../support/fixtures.js';

const PROFILE = 'gpu-admission.io/profile';
const guarded = (admins: { users?: string[]; groups?: string[] } | null = { groups: ['platform'] }, mode?: 'warn') => engine([
  policy({ default: true, namespaces: {}, ...(admins ? { namespaceLabelAdmins: admins } : {}), ...(mode ? { mode } : {}) }, 'strict-default'),
  policy({ namespaces: { selector: { matchLabels: { [PROFILE]: 'training' } } } }, 'training'),
  policy({ namespaces: { selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['gold'] }, { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['x'] }] } } }, 'gold'),
  policy({ exempt: true, namespaces: { names: ['gpu-operator'] } }, 'gpu-system'),
]);
const ns = (labels?: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a', ...(labels ? { labels } : {}) } });
const review = (operation: 'CREATE' | 'UPDATE', object: unknown, oldObject?: unknown, user: { username: string; groups?: string[] } = { username: 'alice', groups: ['system:authenticated', 'tenants'] }): EngineRequest =>
  ({ kind: { group: '', kind: 'Namespace' }, operation, namespace: '', name: 'team-a', object, oldObject, userInfo: user });
const denied = (r: EngineRequest, e = guarded()) => e.validate(r).denials.map((f) => f.path);

describe('namespace-labels guard', () => {
  it('guards every key a selector reads, but never the immutable name label', () => {
    expect([...guardedLabelKeys([
      policy({ namespaces: { selector: { matchLabels: { [PROFILE]: 'training' }, matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'Exists' }] } } }, 'a'),
      policy({ namespaces: { selector: { matchExpressions: [{ key: PROFILE, operator: 'DoesNotExist' }] } } }, 'b'),
    ])]).toEqual([[PROFILE, ['a', 'b']]]);
  });

  it.each<[string, EngineRequest, string[]]>([
    ['a tenant creating a namespace with a profile label', review('CREATE', ns({ [PROFILE]: 'training' })), [`metadata.labels["${PROFILE}"]`]],
    ['a tenant adding a profile label', review('UPDATE', ns({ [PROFILE]: 'training' }), ns()), [`metadata.labels["${PROFILE}"]`]],
    ['a tenant changing the profile', review('UPDATE', ns({ [PROFILE]: 'research' }), ns({ [PROFILE]: 'training' })), [`metadata.labels["${PROFILE}"]`]],
    ['a tenant removing the profile (back to the default)', review('UPDATE', ns(), ns({ [PROFILE]: 'training' })), [`metadata.labels["${PROFILE}"]`]],
    ['a tenant adding a key only a matchExpression reads', review('UPDATE', ns({ tier: 'gold' }), ns()), ['metadata.labels["tier"]']],
  ])('denies %s', (_n, r, paths) => {
    expect(denied(r)).toEqual(paths);
  });

  it('names the label, the policies reading it, who may set it, and the fix', () => {
    const [f] = guarded().validate(review('UPDATE', ns({ [PROFILE]: 'research' }), ns({ [PROFILE]: 'training' }))).denials;
    expect(f).toEqual({
      ruleId: 'namespace-labels',
      path: `metadata.labels["${PROFILE}"]`,
      message: `the request changes ${PROFILE} from "training" to "research", a label that chooses the namespace's NamespacePolicy (read by training); only group platform may set it (spec.namespaceLabelAdmins of strict-default)`,
      fix: `keep ${PROFILE}="training", or ask the platform team to change it`,
    });
  });

  it.each<[string, EngineRequest]>([
    ['a tenant creating a namespace without policy labels', review('CREATE', ns({ team: 'a' }))],
    ['a tenant changing labels no policy reads', review('UPDATE', ns({ [PROFILE]: 'training', team: 'b' }), ns({ [PROFILE]: 'training', team: 'a' }))],
    ['an UPDATE that leaves the profile as it was', review('UPDATE', ns({ [PROFILE]: 'training' }), ns({ [PROFILE]: 'training' }))],
    ['a platform group member changing the profile', review('UPDATE', ns({ [PROFILE]: 'research' }), ns({ [PROFILE]: 'training' }), { username: 'bob', groups: ['platform'] })],
  ])('allows %s', (_n, r) => {
    expect(denied(r)).toEqual([]);
  });

  it('a named platform user may change the profile', () => {
    const r = review('UPDATE', ns({ [PROFILE]: 'research' }), ns({ [PROFILE]: 'training' }), { username: 'system:serviceaccount:argocd:argocd-application-controller' });
    expect(denied(r, guarded({ users: ['system:serviceaccount:argocd:argocd-application-controller'] }))).toEqual([]);
    expect(denied(r)).toHaveLength(1);
  });

  it('skips when the default policy names no admins (the guard is off), and denies the same change when it does', () => {
    const r = review('UPDATE', ns({ [PROFILE]: 'research' }), ns({ [PROFILE]: 'training' }));
    const off = guarded(null).validate(r);
    expect(off.skipped).toMatch(/not guarded/);
    expect(off.denials).toEqual([]);
    expect(denied(r)).toHaveLength(1);
  });

  it('skips DELETE and subresources', () => {
    expect(guarded().validate({ ...review('UPDATE', ns(), ns({ [PROFILE]: 'training' })), operation: 'DELETE' }).skipped).toMatch(/DELETE is not checked/);
    expect(guarded().validate({ ...review('UPDATE', ns(), ns({ [PROFILE]: 'training' })), subResource: 'status' }).denials).toEqual([]);
  });

  it('follows the default policy\'s mode: warn while rolling out', () => {
    const v = guarded({ groups: ['platform'] }, 'warn').validate(review('UPDATE', ns({ [PROFILE]: 'research' }), ns()));
    expect(v.denials).toEqual([]);
    expect(v.warnings.map((f) => f.ruleId)).toEqual(['namespace-labels']);
  });

  it('is a policy error anywhere but on the default policy', async () => {
    const { parsePolicies } = await import('../../src/policy/parse.js');
    expect(() => parsePolicies([{ path: 'p.yaml', text: 'apiVersion: gpu-admission.io/v1alpha1\nkind: NamespacePolicy\nmetadata: {name: a}\nspec: {namespaces: {names: [a]}, namespaceLabelAdmins: {groups: [platform]}}\n' }]))
      .toThrow(/spec\.namespaceLabelAdmins: only the default policy/);
  });
});
