import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { generate } from 'selfsigned';
import { generateCerts, pemChain } from '../../src/certs/generate.js';
import { serve } from '../../src/server/serve.js';
import { corpusReview, POLICIES_DIR } from '../support/app.js';

const dir = mkdtempSync(join(tmpdir(), 'gpa-sec-'));
let stop: () => Promise<void>;
let port: number;
let healthPort: number;
let serverCa: string;
let client: { cert: string; key: string };
let stranger: { cert: string; key: string };

async function clientCert(caKey: string, caCert: string): Promise<{ cert: string; key: string }> {
  const c = await generate([{ name: 'commonName', value: 'kube-apiserver' }], {
    keyType: 'ec', algorithm: 'sha256', ca: { key: caKey, cert: caCert },
    extensions: [{ name: 'basicConstraints', cA: false }, { name: 'keyUsage', digitalSignature: true }, { name: 'extKeyUsage', clientAuth: true }],
  });
  return { cert: c.cert, key: c.private };
}

beforeAll(async () => {
  const server = await generateCerts({ service: 'gpu-admission', namespace: 'gpu-admission', extraNames: ['localhost', '127.0.0.1'] });
  serverCa = server.caCert;
  writeFileSync(join(dir, 'tls.crt'), pemChain(server.cert, server.caCert));
  writeFileSync(join(dir, 'tls.key'), server.key);
  const clients = await generate([{ name: 'commonName', value: 'clients-ca' }], { keyType: 'ec', algorithm: 'sha256', extensions: [{ name: 'basicConstraints', cA: true }, { name: 'keyUsage', keyCertSign: true, digitalSignature: true }] });
  writeFileSync(join(dir, 'client-ca.crt'), clients.cert);
  client = await clientCert(clients.private, clients.cert);
  const other = await generate([{ name: 'commonName', value: 'other-ca' }], { keyType: 'ec', algorithm: 'sha256', extensions: [{ name: 'basicConstraints', cA: true }, { name: 'keyUsage', keyCertSign: true, digitalSignature: true }] });
  stranger = await clientCert(other.private, other.cert);
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
  stop = await serve({
    policies: POLICIES_DIR, host: '127.0.0.1', port: 0, cert: join(dir, 'tls.crt'), key: join(dir, 'tls.key'), certDir: dir,
    acceleratorResources: [], shutdownDelay: 0, offline: true, clientCa: join(dir, 'client-ca.crt'), healthPort: 0, logger,
  });
  port = lines.find((l) => l['event'] === 'listening')?.['port'] as number;
  const health = lines.find((l) => l['event'] === 'health-listening');
  healthPort = health?.['port'] as number;
});
afterAll(async () => {
  await stop();
  rmSync(dir, { recursive: true, force: true });
});

function https(path: string, opts: { cert?: string; key?: string; body?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.body ? 'POST' : 'GET', ca: serverCa, servername: 'localhost', cert: opts.cert, key: opts.key,
      headers: opts.body ? { 'content-type': 'application/json' } : {} }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('mutual TLS with --client-ca', () => {
  it('answers a client certificate signed by the client CA', async () => {
    const body = JSON.stringify(corpusReview('001-mutate-CREATE-Pod-cuda-smoke.json', 'inference'));
    const res = await https('/mutate', { ...client, body });
    expect(res.status).toBe(200);
  });
  it('refuses a connection without a client certificate', async () => {
    await expect(https('/healthz')).rejects.toThrow();
  });
  it('refuses a certificate from another CA', async () => {
    await expect(https('/healthz', stranger)).rejects.toThrow();
  });
});

describe('--health-port', () => {
  it('serves health, readiness and metrics in plain HTTP, never the review endpoints', async () => {
    expect(healthPort).toBeGreaterThan(0);
    const base = `http://127.0.0.1:${healthPort}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = (await (await fetch(`${base}/readyz`)).json()) as { tls: { clientCertificates: string } };
    expect(ready.tls.clientCertificates).toBe('required');
    expect((await fetch(`${base}/mutate`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status).toBe(404);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    for (const name of ['gpu_admission_reviews_total', 'gpu_admission_review_duration_milliseconds_bucket', 'gpu_admission_mutations_total',
      'gpu_admission_policy_generation 1', 'gpu_admission_policy_reloads_total{result="success"} 1', 'gpu_admission_certificate_expiry_timestamp_seconds', 'gpu_admission_process_resident_memory_bytes']) {
      expect(metrics).toContain(name);
    }
    expect(metrics).toMatch(/gpu_admission_reviews_total\{endpoint="mutate",operation="CREATE",decision="patched",policy="realtime-inference"\} 1/);
    expect(readFileSync(join(dir, 'client-ca.crt'), 'utf8')).toContain('BEGIN CERTIFICATE');
  });
});
