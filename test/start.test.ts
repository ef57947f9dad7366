/**
 * `npm start` behaves like a foreground program: SIGTERM (or Ctrl-C's SIGINT) to the npm process
 * stops the server too, instead of leaving it listening. Runs dist/ as built by the global setup
 * (--ignore-scripts skips the prestart build, so nothing rebuilds while other tests run it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('..', import.meta.url).pathname;

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: 'localhost', port }, () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

function started(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('"event":"listening"')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`npm start exited (${code}) before listening:\n${out}`)));
  });
}

describe('npm start', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('stops the server when npm gets %s', async (signal) => {
    const child = spawn('npm', ['start', '--ignore-scripts', '--silent'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    await started(child);
    expect(await listening(8443)).toBe(true);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill(signal);
    await exited;
    // The server drains and exits by itself; give it its shutdown time, polling the port.
    let open = true;
    for (let i = 0; i < 50 && open; i += 1) {
      open = await listening(8443);
      if (open) await new Promise((r) => setTimeout(r, 100));
    }
    expect(open).toBe(false);
  }, 30_000);
});
