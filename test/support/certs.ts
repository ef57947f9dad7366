import { X509Certificate } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateCerts, pemChain } from '../../src/certs/generate.js';

/**
 * A fresh CA and serving certificate for localhost into `dir` (tls.crt, tls.key), written aside and
 * renamed, as a Secret volume update swaps files atomically. The serial is in upper-case hex, as
 * X509Certificate gives it.
 */
export async function writeCerts(dir: string): Promise<{ ca: string; serial: string }> {
  const b = await generateCerts({ service: 'gpu-admission', namespace: 'gpu-admission', extraNames: ['localhost', '127.0.0.1'] });
  writeFileSync(join(dir, 'tls.key.tmp'), b.key);
  writeFileSync(join(dir, 'tls.crt.tmp'), pemChain(b.cert, b.caCert));
  renameSync(join(dir, 'tls.key.tmp'), join(dir, 'tls.key'));
  renameSync(join(dir, 'tls.crt.tmp'), join(dir, 'tls.crt'));
  return { ca: b.caCert, serial: new X509Certificate(b.cert).serialNumber };
}
