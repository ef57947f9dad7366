import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { connect, type TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { serve } from '../../src/server/serve.js';
import { corpusReview, POLICIES_DIR } from '../support/app.js';

// Slow clients are bounded: a body deadline (--request-timeout), a cap on the bytes held in flight
// across connections (--max-inflight-mib: over it, 503 at once, nothing read) and a connection cap.
const certDir = mkdtempSync(join(tmpdir(), 'gpa-slow-'));
const lines: Record<string, unknown>[] = [];
const MiB = 1024 * 1024;
let stop: () => Promise<void>;
let port: number;
let ca: Buffer;
const open = new Set<TLSSocket>();

beforeAll(async () => {
  const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
  stop = await serve({
    policies: POLICIES_DIR, host: '127.0.0.1', port: 0, certDir, acceleratorResources: [], shutdownDelay: 0, shutdownTimeout: 1, offline: true, logger,
    requestTimeout: 1, maxInflightBytes: 4 * MiB, maxConnections: 20,
  });
  port = lines.find((l) => l['event'] === 'listening')?.['port'] as number;
  ca = readFileSync(join(certDir, 'ca.crt'));
});
afterAll(async () => {
  open.forEach((s) => s.destroy());
  await stop();
  rmSync(certDir, { recursive: true, force: true });
});

/** A well-formed review over its own connection. */
function review(): Promise<number> {
  const body = JSON.stringify(corpusReview('007-validate-CREATE-Pod-cuda-smoke-unlisted.json'));
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/validate', method: 'POST', ca, servername: 'localhost', agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface Slow { socket: TLSSocket; answer: Promise<{ text: string; ms: number }>; stopDribble(): void }

/** Sends the headers of a POST announcing `length` bytes, then one byte every `everyMs`. */
function slowClient(length: number, everyMs = 100): Promise<Slow> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ca });
    open.add(socket);
    socket.on('error', () => undefined);
    socket.once('secureConnect', () => {
      const started = Date.now();
      socket.write(`POST /validate HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n\r\n{`);
      const timer = setInterval(() => socket.writable && socket.write(' '), everyMs);
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString()));
      const answer = new Promise<{ text: string; ms: number }>((done) => socket.on('close', () => {
        clearInterval(timer);
        open.delete(socket);
        done({ text, ms: Date.now() - started });
      }));
      resolve({ socket, answer, stopDribble: () => clearInterval(timer) });
    });
    socket.once('error', reject);
  });
}

describe('slow clients', () => {
  it('cuts off a client that dribbles its body at the deadline, answering others meanwhile', async () => {
    const slow = await slowClient(1000);
    const answered: number[] = [];
    let cut = false;
    void slow.answer.then(() => (cut = true));
    while (!cut) answered.push(await review());
    const { text, ms } = await slow.answer;
    expect(text).toMatch(/^HTTP\/1\.1 408/);
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(4000);
    expect(answered.length).toBeGreaterThan(0);
    expect(answered.every((s) => s === 200)).toBe(true);
  });

  it('answers 503 at once when the bytes in flight are over the cap, and recovers after the deadline', async () => {
    const a = await slowClient(2 * MiB);
    const b = await slowClient(2 * MiB);
    const c = await slowClient(100_000);
    const third = await c.answer;
    expect(third.text).toMatch(/^HTTP\/1\.1 503/);
    expect(third.text).toContain('in flight');
    expect(third.ms).toBeLessThan(1000); // before the deadline: refused, not timed out
    await Promise.all([a.answer, b.answer]);
    expect(await review()).toBe(200);
  });

  it('refuses connections over the cap', async () => {
    const held = await Promise.all(Array.from({ length: 20 }, () => slowClient(10)));
    const extra = connect({ host: '127.0.0.1', port, servername: 'localhost', ca });
    const outcome = await new Promise<string>((resolve) => {
      extra.once('secureConnect', () => resolve('connected'));
      extra.once('error', () => resolve('refused'));
      extra.once('close', () => resolve('refused'));
    });
    extra.destroy();
    expect(outcome).toBe('refused');
    held.forEach((h) => h.socket.destroy());
    await Promise.all(held.map((h) => h.answer));
  });
});
