import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request, Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { serve } from '../../src/server/serve.js';
import { corpusReview, POLICIES_DIR } from '../support/app.js';

let stop: () => Promise<void>;
let port: number;
let ca: Buffer;
const certDir = mkdtempSync(join(tmpdir(), 'gpa-tls-'));
const lines: Record<string, unknown>[] = [];

beforeAll(async () => {
  const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
  stop = await serve({ policies: POLICIES_DIR, host: '127.0.0.1', port: 0, certDir, acceleratorResources: [], shutdownDelay: 0, offline: true, logger });
  port = (lines.find((l) => l['event'] === 'listening')?.['port'] as number) ?? 0;
  ca = readFileSync(join(certDir, 'ca.crt'));
});
afterAll(async () => {
  await stop();
  rmSync(certDir, { recursive: true, force: true });
});

function call(path: string, body: string | undefined, opts: { agent?: Agent; maxVersion?: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'; servername?: string } = {}): Promise<{ status: number; body: string; socket: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1', port, path, method: body ? 'POST' : 'GET', ca, agent: opts.agent, servername: opts.servername ?? 'localhost',
      maxVersion: opts.maxVersion, minVersion: opts.maxVersion === 'TLSv1.1' ? 'TLSv1' : undefined,
      headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {},
    }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, socket: req.socket }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('real HTTPS listener', () => {
  it('serves reviews over TLS with a certificate valid for localhost and the service names', async () => {
    const review = corpusReview('001-mutate-CREATE-Pod-cuda-smoke.json', 'inference');
    const res = await call('/mutate?timeout=10s', JSON.stringify(review));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).response.uid).toBe(review.request['uid']);
    const svc = await call('/healthz', undefined, { servername: 'gpu-admission.gpu-admission.svc' });
    expect(svc.status).toBe(200);
  });

  it('reuses one keep-alive connection for many reviews', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca });
    const body = JSON.stringify(corpusReview('007-validate-CREATE-Pod-cuda-smoke-unlisted.json'));
    const sockets = new Set<unknown>();
    for (let i = 0; i < 5; i++) sockets.add((await call('/validate', body, { agent })).socket);
    expect(sockets.size).toBe(1);
    agent.destroy();
  });

  it('refuses TLS below 1.2', async () => {
    await expect(call('/healthz', undefined, { maxVersion: 'TLSv1.1' })).rejects.toThrow();
  });

  it('is ready and logs one line per review without payload values', async () => {
    expect((await call('/readyz', undefined)).status).toBe(200);
    const review = corpusReview('001-mutate-CREATE-Pod-cuda-smoke.json', 'inference');
    const c = (review.request.object as { spec: { containers: Record<string, unknown>[] } }).spec.containers[0]!;
    c['env'] = [{ name: 'HF_TOKEN', value: 'hf_secret_value_123' }];
    c['args'] = ['--api-key=super-secret-arg'];
    c['command'] = ['sh', '-c', 'export TOKEN=command-secret-42'];
    (review.request.object as { metadata: Record<string, unknown> }).metadata['annotations'] = { 'vault.example.com/token': 'annotation-secret-99' };
    await call('/mutate', JSON.stringify(review));
    const line = lines.filter((l) => l['event'] === 'review').at(-1) ?? {};
    expect(line).toMatchObject({ uid: review.request['uid'], namespace: 'inference', kind: 'Pod', operation: 'CREATE', decision: 'patched', policy: 'realtime-inference' });
    expect(typeof line['durationMs']).toBe('number');
    const all = JSON.stringify(lines);
    expect(all).not.toContain('hf_secret_value_123');
    expect(all).not.toContain('super-secret-arg');
    expect(all).not.toContain('command-secret-42');
    expect(all).not.toContain('annotation-secret-99');
  });

  it('logs plain allows at debug only: at info, a review that changes nothing leaves no line', async () => {
    const before = lines.filter((l) => l['event'] === 'review').length;
    // The default namespace's policy: a CPU Pod is allowed untouched.
    const review = corpusReview('001-mutate-CREATE-Pod-cuda-smoke.json', 'default');
    const c = (review.request.object as { spec: { containers: { resources?: unknown }[] } }).spec.containers[0]!;
    delete c.resources;
    const res = JSON.parse((await call('/validate', JSON.stringify(review))).body);
    expect(res.response).toMatchObject({ allowed: true });
    expect(res.response.warnings).toBeUndefined();
    expect(lines.filter((l) => l['event'] === 'review').length).toBe(before);
  });
});
