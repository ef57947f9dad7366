// A stuck Kubernetes API server for test/load/soak.mjs: plain HTTP on 127.0.0.1, just enough of the
// API for gpu-admission's informers. Each LIST of namespaces, nodes and PriorityClasses is answered
// once (the initial sync); every WATCH, every later LIST and every single-object GET is accepted and
// then never answered (the socket stays open, no status line). With mode 'silent-stream' a WATCH
// gets its 200 and headers and then nothing. Discovery of resource.k8s.io is 404.
import { createServer } from 'node:http';

/** Namespaces the fake cluster lists; `ml-serving` is selected by label only (policy training). */
export const FAKE_NAMESPACES = [
  { name: 'inference', labels: {} },
  { name: 'training', labels: {} },
  { name: 'notebooks', labels: {} },
  { name: 'default', labels: {} },
  { name: 'ml-serving', labels: { 'gpu-admission.io/profile': 'training' } },
];

const list = (kind, apiVersion, items) => ({ kind, apiVersion, metadata: { resourceVersion: '1000' }, items });
const meta = (name, labels = {}) => ({ name, uid: `uid-${name}`, resourceVersion: '1000', labels });

const LISTS = {
  '/api/v1/namespaces': () => list('NamespaceList', 'v1', FAKE_NAMESPACES.map((n) => ({
    apiVersion: 'v1', kind: 'Namespace', metadata: meta(n.name, { 'kubernetes.io/metadata.name': n.name, ...n.labels }), status: { phase: 'Active' },
  }))),
  '/api/v1/nodes': () => list('NodeList', 'v1', [
    ['l4-node-1', { 'cloud.google.com/gke-accelerator': 'nvidia-l4' }],
    ['a100-node-1', { 'cloud.google.com/gke-accelerator': 'nvidia-a100-80gb' }],
    ['cpu-node-1', {}],
  ].map(([name, labels]) => ({
    apiVersion: 'v1', kind: 'Node', metadata: meta(name, { 'kubernetes.io/hostname': name, ...labels }),
    spec: Object.keys(labels).length ? { taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }] } : {},
    status: { allocatable: { cpu: '48', memory: '192Gi', ...(Object.keys(labels).length ? { 'nvidia.com/gpu': '8' } : {}) } },
  }))),
  '/apis/scheduling.k8s.io/v1/priorityclasses': () => list('PriorityClassList', 'scheduling.k8s.io/v1',
    ['inference-critical', 'inference-standard', 'training-batch', 'training-preemptible', 'notebook-interactive', 'research'].map((name, i) => ({
      apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: meta(name), value: 100000 - i * 1000, preemptionPolicy: 'PreemptLowerPriority',
    }))),
};

/**
 * Starts the fake API server on 127.0.0.1 (port 0: any free port). `requests` counts what it saw:
 * answered lists, stalled watches, stalled lists and gets, 404s.
 */
export async function startFakeApiServer({ mode = 'no-response' } = {}) {
  const answered = new Set();
  const stalled = new Set();
  const requests = { lists: 0, watches: 0, stalledLists: 0, stalledGets: 0, notFound: 0, log: [] };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const watch = ['true', '1'].includes(url.searchParams.get('watch') ?? '');
    requests.log.push(`${req.method} ${url.pathname}${watch ? ' (watch)' : ''}`);
    if (requests.log.length > 200) requests.log.shift();
    const stall = (what) => {
      requests[what]++;
      stalled.add(res);
      req.socket.setKeepAlive(true);
      res.once('close', () => stalled.delete(res));
    };
    if (watch) {
      // silent-stream: the watch is accepted (200, chunked) and then nothing ever comes.
      if (mode === 'silent-stream') res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }).flushHeaders();
      return stall('watches');
    }
    const makeList = LISTS[url.pathname];
    if (makeList) {
      if (answered.has(url.pathname)) return stall('stalledLists');
      answered.add(url.pathname);
      requests.lists++;
      const body = JSON.stringify(makeList());
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      return res.end(body);
    }
    if (/^\/api\/v1\/namespaces\/[^/]+$/.test(url.pathname)) return stall('stalledGets');
    requests.notFound++;
    const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `${url.pathname} not found` });
    res.writeHead(404, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    return res.end(body);
  });
  server.keepAliveTimeout = 0;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    stalledNow: () => stalled.size,
    kubeconfig: () => [
      'apiVersion: v1', 'kind: Config',
      'clusters:', '  - name: fake', '    cluster:', `      server: http://127.0.0.1:${port}`, '      insecure-skip-tls-verify: true', // client-node refuses http:// otherwise
      'users:', '  - name: fake', '    user:', '      token: fake-token',
      'contexts:', '  - name: fake', '    context:', '      cluster: fake', '      user: fake',
      'current-context: fake', '',
    ].join('\n'),
    async close() {
      for (const res of stalled) res.socket?.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
