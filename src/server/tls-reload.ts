import { createHash, X509Certificate, createPrivateKey } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  notAfter: Date;
}

/** Reads a certificate chain and key and checks that they belong together. */
export async function readTls(certFile: string, keyFile: string): Promise<TlsMaterial> {
  const [cert, key] = await Promise.all([readFile(certFile), readFile(keyFile)]);
  const x509 = new X509Certificate(cert);
  if (!x509.checkPrivateKey(createPrivateKey(key))) throw new Error(`${keyFile} is not the key of ${certFile}`);
  return { cert, key, notAfter: new Date(x509.validTo) };
}

export function daysLeft(notAfter: Date, now = Date.now()): number {
  return Math.floor((notAfter.getTime() - now) / 86_400_000);
}

export function logExpiry(logger: Logger, file: string, notAfter: Date, warnDays: number): void {
  const days = daysLeft(notAfter);
  const fields = { event: 'certificate', file, notAfter: notAfter.toISOString(), daysLeft: days };
  if (days < warnDays) logger.warn(fields, days < 0 ? 'serving certificate has EXPIRED' : `serving certificate expires in ${days} days`);
  else logger.info(fields, 'serving certificate loaded');
}

export interface TlsWatcherOptions {
  certFile: string;
  keyFile: string;
  logger: Logger;
  warnDays: number;
  /** Applies new material to the listener (server.setSecureContext): new handshakes use it, open connections stay. */
  apply(material: TlsMaterial): void;
  pollMs?: number;
}

/**
 * Watches the certificate and key (a Secret mount swaps a symlink; cert-manager rewrites files)
 * and polls as a fallback. A half-written or mismatched pair is ignored until it is whole.
 */
export class TlsWatcher {
  private fingerprint = '';
  private watchers: FSWatcher[] = [];
  private timer?: NodeJS.Timeout;
  private debounce?: NodeJS.Timeout;
  current?: TlsMaterial;

  constructor(private readonly o: TlsWatcherOptions) {}

  async load(): Promise<TlsMaterial> {
    const m = await readTls(this.o.certFile, this.o.keyFile);
    this.fingerprint = hash(m);
    this.current = m;
    logExpiry(this.o.logger, this.o.certFile, m.notAfter, this.o.warnDays);
    return m;
  }

  start(): void {
    for (const dir of new Set([dirname(this.o.certFile), dirname(this.o.keyFile)])) {
      try {
        const w = watch(dir, { persistent: false }, () => this.schedule());
        w.on('error', () => undefined);
        this.watchers.push(w);
      } catch {
        // polling below still notices changes
      }
    }
    this.timer = setInterval(() => void this.check(), this.o.pollMs ?? 10_000);
    this.timer.unref();
  }

  private schedule(): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.check(), 200);
  }

  async check(): Promise<boolean> {
    let m: TlsMaterial;
    try {
      m = await readTls(this.o.certFile, this.o.keyFile);
    } catch (err) {
      this.o.logger.debug({ event: 'certificate-pending', err: (err as Error).message }, 'certificate files not usable yet');
      return false;
    }
    const fp = hash(m);
    if (fp === this.fingerprint) return false;
    try {
      this.o.apply(m);
    } catch (err) {
      this.o.logger.error({ event: 'certificate-rejected', err: (err as Error).message }, 'new certificate could not be applied; keeping the old one');
      return false;
    }
    this.fingerprint = fp;
    this.current = m;
    this.o.logger.info({ event: 'certificate-reloaded', file: this.o.certFile, notAfter: m.notAfter.toISOString() }, 'serving certificate reloaded');
    logExpiry(this.o.logger, this.o.certFile, m.notAfter, this.o.warnDays);
    return true;
  }

  stop(): void {
    clearInterval(this.timer);
    clearTimeout(this.debounce);
    this.watchers.forEach((w) => w.close());
  }
}

function hash(m: TlsMaterial): string {
  return createHash('sha256').update(m.cert).update(m.key).digest('hex');
}
