import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterCache } from '../../src/cluster/cache.js';
import { getJson, KubeApiError, listPath, servesDra, startClusterView } from '../../src/cluster/informers.js';

type Route = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => {
    s.closeAllConnections();
    s.close(r);
  })));
});

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

/** A plain-HTTP stand-in for the API server, and a token kubeconfig pointing at it. */
async function fakeApi(route: Route): Promise<{ kc: KubeConfig; requests: { url: URL; auth?: string }[] }> {
  const requests: { url: URL; auth?: string }[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push({ url, auth: req.headers.authorization });
    route(req, res, url);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'tok-123' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'u' }],
    currentContext: 'fake',
  });
  return { kc, requests };
}

const status403 = {
  kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403,
  message: 'nodes is forbidden: User "system:serviceaccount:gpu:webhook" cannot list resource "nodes" in API group "" at the cluster scope',
};

describe('listing without the generated API clients', () => {
  it('lists in pages, with the token, into one list of plain JSON objects', async () => {
    const { kc, requests } = await fakeApi((_req, res, url) => {
      if (url.searchParams.get('continue') === 'page-2') {
        return json(res, 200, { kind: 'NamespaceList', metadata: { resourceVersion: '41' }, items: [{ metadata: { name: 'c' } }] });
      }
      json(res, 200, { kind: 'NamespaceList', metadata: { resourceVersion: '40', continue: 'page-2' }, items: [{ metadata: { name: 'a', creationTimestamp: '2026-01-01T00:00:00Z' } }, { metadata: { name: 'b' } }] });
    });
    const list = await listPath(kc, '/api/v1/namespaces', { pageSize: 2 });
    expect(list.metadata?.resourceVersion).toBe('40');
    expect(list.items.map((o) => o.metadata?.name)).toEqual(['a', 'b', 'c']);
    expect(list.items[0]?.metadata?.creationTimestamp).toBe('2026-01-01T00:00:00Z'); // JSON as sent, no model classes
    expect(requests.map((r) => `${r.url.pathname}?${r.url.searchParams}`)).toEqual(['/api/v1/namespaces?limit=2', '/api/v1/namespaces?limit=2&continue=page-2']);
    expect(requests.every((r) => r.auth === 'Bearer tok-123')).toBe(true);
  });

  it('an error answer names the status and the API server message', async () => {
    const { kc } = await fakeApi((_req, res) => json(res, 403, status403));
    const err = await listPath(kc, '/api/v1/nodes').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as KubeApiError).code).toBe(403);
    expect((err as KubeApiError).statusCode).toBe(403);
    expect((err as Error).message).toBe(`GET /api/v1/nodes?limit=500: HTTP 403 Forbidden: ${status403.message}`);
  });

  it('errors without a Status body carry the text; unanswered requests time out', async () => {
    const { kc } = await fakeApi((req, res, url) => {
      if (url.pathname === '/slow') return; // never answers
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('etcdserver: request timed out\n');
    });
    await expect(getJson(kc, '/api/v1/namespaces/x', 1000)).rejects.toThrow('GET /api/v1/namespaces/x: HTTP 500 Internal Server Error: etcdserver: request timed out');
    await expect(getJson(kc, '/slow', 200)).rejects.toThrow('GET /slow: no answer within 200 ms');
  });

  it('DRA discovery: 200 is served, 404 or no answer is not', async () => {
    const served = await fakeApi((_req, res) => json(res, 200, { kind: 'APIResourceList', groupVersion: 'resource.k8s.io/v1', resources: [] }));
    const missing = await fakeApi((_req, res) => json(res, 404, { kind: 'Status', code: 404, message: 'the server could not find the requested resource' }));
    const silent = await fakeApi(() => undefined);
    expect(await servesDra(served.kc)).toBe(true);
    expect(served.requests[0]?.url.pathname).toBe('/apis/resource.k8s.io/v1');
    expect(await servesDra(missing.kc)).toBe(false);
    expect(await servesDra(silent.kc, 200)).toBe(false);
  });
});

describe('cluster view on plain JSON', () => {
  it('feeds the cache from lists by JSON field names, reads unknown namespaces, survives a 403', async () => {
    const lists: Record<string, unknown[]> = {
      '/api/v1/namespaces': [{ metadata: { name: 'research', labels: { team: 'ml' } } }],
      '/api/v1/nodes': [{
        metadata: { name: 'gpu-1', labels: { 'cloud.google.com/gke-accelerator': 'nvidia-l4' } },
        spec: { taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule', timeAdded: '2026-01-01T00:00:00Z' }] },
        status: { allocatable: { cpu: '47', 'nvidia.com/gpu': '4' } },
      }],
      '/apis/scheduling.k8s.io/v1/priorityclasses': [{ metadata: { name: 'inference-critical' }, value: 1000000, preemptionPolicy: 'Never', globalDefault: true }],
      '/apis/resource.k8s.io/v1/deviceclasses': [{ metadata: { name: 'gpu.nvidia.com' }, spec: { selectors: [{ cel: { expression: "device.driver == 'gpu.nvidia.com'" } }], extendedResourceName: 'nvidia.com/gpu' } }],
      '/apis/resource.k8s.io/v1/resourceclaimtemplates': [{ metadata: { name: 't', namespace: 'research' }, spec: { spec: { devices: { requests: [{ name: 'g', exactly: { deviceClassName: 'gpu.nvidia.com' } }] } } } }],
    };
    const { kc } = await fakeApi((_req, res, url) => {
      if (url.searchParams.get('watch') === 'true') {
        res.writeHead(200, { 'content-type': 'application/json' }); // kept open, no events
        return void res.flushHeaders();
      }
      if (url.pathname === '/apis/resource.k8s.io/v1') return json(res, 200, { kind: 'APIResourceList', resources: [] });
      if (url.pathname === '/apis/resource.k8s.io/v1/resourceclaims') return json(res, 403, { ...status403, message: 'resourceclaims is forbidden' });
      if (url.pathname === '/api/v1/namespaces/late') return json(res, 200, { metadata: { name: 'late', labels: { team: 'late' } } });
      const items = lists[url.pathname];
      if (items) return json(res, 200, { metadata: { resourceVersion: '7' }, items });
      json(res, 404, { kind: 'Status', code: 404, message: 'not found' });
    });
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
    const cache = new ClusterCache();
    const view = await startClusterView(kc, cache, logger);
    try {
      const want = ['namespaces', 'nodes', 'priorityclasses', 'deviceclasses', 'resourceclaimtemplates'] as const;
      for (let i = 0; i < 100 && !want.every((r) => cache.synced.has(r)); i++) await new Promise((r) => setTimeout(r, 50));
      expect([...cache.synced].sort()).toEqual([...want].sort());
      expect(cache.labels('research')).toEqual({ team: 'ml' });
      expect([...cache.nodes() ?? []]).toEqual([{
        name: 'gpu-1', labels: { 'cloud.google.com/gke-accelerator': 'nvidia-l4' },
        taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }], allocatable: { cpu: '47', 'nvidia.com/gpu': '4' },
      }]);
      expect(cache.priorityClasses.get('inference-critical')).toEqual({ name: 'inference-critical', value: 1000000, preemptionPolicy: 'Never', globalDefault: true });
      expect(cache.deviceClassList()).toEqual([{ name: 'gpu.nvidia.com', drivers: ['gpu.nvidia.com'], extendedResourceName: 'nvidia.com/gpu' }]);
      expect(cache.deviceClasses('research', 'ResourceClaimTemplate', 't')).toEqual(['gpu.nvidia.com']);
      const failed = lines.find((l) => l.event === 'cluster-watch-error' && l.resource === 'resourceclaims');
      expect(failed?.err).toBe('GET /apis/resource.k8s.io/v1/resourceclaims?limit=500: HTTP 403 Forbidden: resourceclaims is forbidden');
      await view.readNamespace('late', 1000);
      expect(cache.labels('late')).toEqual({ team: 'late' });
      await expect(view.readNamespace('absent', 1000)).rejects.toThrow('HTTP 404 Not Found: not found');
    } finally {
      await view.stop();
    }
  });
});
