import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../util/errors.js';
import { generateCerts, pemChain } from './generate.js';
import { caBundlePatch, secretManifest } from './manifests.js';

export interface CertFilesRequest {
  service: string;
  namespace: string;
  extraNames: string[];
  days: number;
  secretName: string;
  out: string;
  /** Also write the Secret and the caBundle patch into this kustomize overlay. */
  kustomize?: string;
  /** Sign with ca.crt/ca.key of an earlier run in `out`. */
  reuseCa: boolean;
}

export interface CertFiles {
  written: string[];
  /** The caBundle patch of both webhook configurations. */
  patch: string;
}

/** Creates (or, with reuseCa, renews under the same CA) the serving certificate and writes its files. */
export async function writeCertFiles(r: CertFilesRequest): Promise<CertFiles> {
  const caFiles = [join(r.out, 'ca.crt'), join(r.out, 'ca.key')] as const;
  let ca: { cert: string; key: string } | undefined;
  if (r.reuseCa) {
    if (!existsSync(caFiles[0]) || !existsSync(caFiles[1])) throw new UsageError(`--reuse-ca needs ${caFiles[0]} and ${caFiles[1]} from an earlier run`, 'certs');
    ca = { cert: readFileSync(caFiles[0], 'utf8'), key: readFileSync(caFiles[1], 'utf8') };
  }
  const b = await generateCerts({ service: r.service, namespace: r.namespace, extraNames: r.extraNames, days: r.days, ca });
  const chain = pemChain(b.cert, b.caCert);
  const secret = secretManifest(b, r.secretName, r.namespace, chain);
  const patch = caBundlePatch(b.caCert);
  await mkdir(r.out, { recursive: true });
  const files: [string, string, number?][] = [
    [caFiles[0], b.caCert], [join(r.out, 'tls.crt'), chain], [join(r.out, 'tls.key'), b.key, 0o600],
    [join(r.out, 'secret.yaml'), secret, 0o600], [caFiles[1], b.caKey, 0o600],
  ];
  if (r.kustomize) {
    await mkdir(r.kustomize, { recursive: true });
    files.push([join(r.kustomize, 'secret.yaml'), secret, 0o600], [join(r.kustomize, 'cabundle-patch.yaml'), patch]);
  }
  for (const [path, text, mode] of files) await writeFile(path, text, mode === undefined ? undefined : { mode });
  return { written: files.map(([p]) => p), patch };
}
