import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type PeerCertificate } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { generate } from 'selfsigned';
import { generateCerts, pemChain } from '../../src/certs/generate.js';
import { serve } from '../../src/server/serve.js';
import { POLICIES_DIR } from '../support/app.js';

// Certificate rotation must keep what the first secure context had: client-CA verification
// (mutual TLS), the minimum version and the cipher list.
const dir = mkdtempSync(join(tmpdir(), 'gpa-rot-'));
const lines: Record<string, unknown>[] = [];
let stop: () => Promise<void>;
let port: number;
let serverCa: string;
let client: { cert: string; key: string };

async function writeServerCert(): Promise<string> {
  const b = await generateCerts({ service: 'gpu-admission', namespace: 'gpu-admission', extraNames: ['localhost', '127.0.0.1'] });
  // Written aside then renamed, as a Secret volume swaps whole files.
  writeFileSync(join(dir, 'tls.crt.new'), pemChain(b.cert, b.caCert));
  writeFileSync(join(dir, 'tls.key.new'), b.key);
  renameSync(join(dir, 'tls.key.new'), join(dir, 'tls.key'));
  renameSync(join(dir, 'tls.crt.new'), join(dir, 'tls.crt'));
  return b.caCert;
}

beforeAll(async () => {
  serverCa = await writeServerCert();
  const cas = await generate([{ name: 'commonName', value: 'clients-ca' }], { keyType: 'ec', algorithm: 'sha256', extensions: [{ name: 'basicConstraints', cA: true }, { name: 'keyUsage', keyCertSign: true, digitalSignature: true }] });
  writeFileSync(join(dir, 'client-ca.crt'), cas.cert);
  const c = await generate([{ name: 'commonName', value: 'kube-apiserver' }], {
    keyType: 'ec', algorithm: 'sha256', ca: { key: cas.private, cert: cas.cert },
    extensions: [{ name: 'basicConstraints', cA: false }, { name: 'keyUsage', digitalSignature: true }, { name: 'extKeyUsage', clientAuth: true }],
  });
  client = { cert: c.cert, key: c.private };
  const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
  stop = await serve({
    policies: POLICIES_DIR, host: '127.0.0.1', port: 0, cert: join(dir, 'tls.crt'), key: join(dir, 'tls.key'), certDir: dir,
    acceleratorResources: [], shutdownDelay: 0, offline: true, clientCa: join(dir, 'client-ca.crt'), logger,
  });
  port = lines.find((l) => l['event'] === 'listening')?.['port'] as number;
});
afterAll(async () => {
  await stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Handshake { ok: boolean; status?: number; cipher?: string; version?: string; fingerprint?: string; error?: string }

/** One TLS connection and one GET /healthz: whether the server answered, and what was negotiated. */
function handshake(opts: { withClientCert: boolean; ciphers?: string; maxVersion?: 'TLSv1.2' | 'TLSv1.3' }): Promise<Handshake> {
  return new Promise((resolve) => {
    const s = connect({
      host: '127.0.0.1', port, servername: 'localhost', ca: serverCa, ...(opts.withClientCert ? client : {}),
      ...(opts.ciphers ? { ciphers: opts.ciphers } : {}), ...(opts.maxVersion ? { maxVersion: opts.maxVersion } : {}),
    });
    let data = '';
    let done = false;
    const finish = (h: Handshake): void => { if (!done) { done = true; s.destroy(); resolve(h); } };
    s.on('secureConnect', () => s.write('GET /healthz HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n'));
    s.on('data', (d: Buffer) => {
      data += d.toString();
      const m = /^HTTP\/1\.1 (\d+)/.exec(data);
      if (m) {
        const peer: PeerCertificate = s.getPeerCertificate();
        finish({ ok: true, status: Number(m[1]), cipher: s.getCipher().name, version: s.getProtocol() ?? undefined, fingerprint: peer.fingerprint256 });
      }
    });
    s.on('error', (err) => finish({ ok: false, error: err.message }));
    s.on('close', () => finish({ ok: false, error: 'closed without an answer' }));
  });
}

async function checkPolicy(): Promise<string | undefined> {
  const withCert = await handshake({ withClientCert: true });
  expect(withCert, withCert.error).toMatchObject({ ok: true, status: 200 });
  expect(await handshake({ withClientCert: false })).toMatchObject({ ok: false });
  // A client that offers only CBC suites over TLS 1.2 finds no shared cipher.
  expect(await handshake({ withClientCert: true, ciphers: 'ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES128-SHA:AES128-SHA256', maxVersion: 'TLSv1.2' })).toMatchObject({ ok: false });
  const tls12 = await handshake({ withClientCert: true, maxVersion: 'TLSv1.2' });
  expect(tls12).toMatchObject({ ok: true, version: 'TLSv1.2' });
  expect(tls12.cipher).toMatch(/GCM|CHACHA20/);
  return withCert.fingerprint;
}

describe('certificate rotation under --client-ca', () => {
  it('keeps mutual TLS, the minimum version and the cipher list after a renewal', async () => {
    const before = await checkPolicy();
    const reloads = (): number => lines.filter((l) => l['event'] === 'certificate-reloaded').length;
    serverCa = await writeServerCert();
    // The watcher reloads on the file events (debounced); wait for its log line.
    const end = Date.now() + 15_000;
    while (reloads() === 0) {
      if (Date.now() > end) throw new Error('certificate was not reloaded');
      await new Promise((r) => setTimeout(r, 25));
    }
    const after = await checkPolicy();
    expect(after).not.toBe(before);
  });
});
