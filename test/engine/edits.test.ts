import { describe, expect, it } from 'vitest';
import { applyLikeApiServer } from '../../src/admission/patch.js';
import { PodMetaEdit } from '../../src/engine/meta-edit.js';
import { ObjectEdit } from '../../src/engine/object-edit.js';

describe('PodMetaEdit', () => {
  it('adds the metadata object when the template has none', () => {
    const doc = { spec: { template: { spec: {} } } };
    const e = new PodMetaEdit(undefined, '/spec/template/metadata');
    e.setLabel('team', 'ml');
    e.setAnnotation('karpenter.sh/do-not-disrupt', 'true');
    const patched = applyLikeApiServer(doc, e.patch());
    expect(patched.spec.template).toEqual({ spec: {}, metadata: { labels: { team: 'ml' }, annotations: { 'karpenter.sh/do-not-disrupt': 'true' } } });
  });

  it('adds the map when metadata has none, and single keys (escaped) when it has one', () => {
    const doc = { metadata: { name: 'p', labels: { app: 'x' } } };
    const e = new PodMetaEdit(doc.metadata, '/metadata');
    e.setLabel('cost/center', '42');
    e.setAnnotation('a', 'b');
    expect(e.patch()).toEqual([
      { op: 'add', path: '/metadata/labels/cost~1center', value: '42' },
      { op: 'add', path: '/metadata/annotations', value: { a: 'b' } },
    ]);
    expect(applyLikeApiServer(doc, e.patch()).metadata).toEqual({ name: 'p', labels: { app: 'x', 'cost/center': '42' }, annotations: { a: 'b' } });
    expect(doc.metadata.labels).toEqual({ app: 'x' });
    expect(e.label('cost/center')).toBe('42');
    expect(e.metadata()?.labels).toEqual({ app: 'x', 'cost/center': '42' });
  });

  it('sets nothing on a spec without metadata (bare PodSpec, virtual spec)', () => {
    const e = new PodMetaEdit(undefined, undefined);
    expect(e.setLabel('team', 'ml')).toBe(false);
    expect(e.patch()).toEqual([]);
    expect(e.changed).toBe(false);
  });
});

describe('ObjectEdit', () => {
  it('creates missing parents, and later reads see what was set', () => {
    const doc = { spec: { replicas: 2 } };
    const e = new ObjectEdit(doc);
    e.set('/spec/strategy/rollingUpdate/maxUnavailable', 0);
    e.set('/spec/strategy/rollingUpdate/maxSurge', 1);
    e.set('/spec/progressDeadlineSeconds', 1200);
    expect(e.get('/spec/strategy/rollingUpdate/maxUnavailable')).toBe(0);
    expect(e.get('/spec/strategy/rollingUpdate/maxSurge')).toBe(1);
    expect(e.get('/spec/replicas')).toBe(2);
    expect(applyLikeApiServer(doc, e.ops)).toEqual({ spec: { replicas: 2, progressDeadlineSeconds: 1200, strategy: { rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } } });
    expect(doc).toEqual({ spec: { replicas: 2 } });
  });

  it('replaces an existing field with add, as RFC 6902 allows', () => {
    const doc = { metadata: { labels: { 'kueue.x-k8s.io/queue-name': 'old' } } };
    const e = new ObjectEdit(doc);
    e.set('/metadata/labels/kueue.x-k8s.io~1queue-name', 'new');
    expect(applyLikeApiServer(doc, e.ops).metadata.labels).toEqual({ 'kueue.x-k8s.io/queue-name': 'new' });
  });
});
