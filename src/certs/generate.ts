import { X509Certificate } from 'node:crypto';

export interface CertBundle {
  caCert: string;
  caKey: string;
  cert: string;
  key: string;
}

export interface CertRequest {
  service: string;
  namespace: string;
  /** Extra DNS names / IPs (e.g. localhost, 127.0.0.1 for local runs). */
  extraNames?: string[];
  days?: number;
  /** Sign with this CA instead of a new one, so rotation keeps the caBundle the API server trusts. */
  ca?: { cert: string; key: string };
}

/** The names the API server may use: `<svc>.<ns>.svc` is the one it checks for a Service reference. */
export function serviceNames(r: CertRequest): string[] {
  const { service: s, namespace: n } = r;
  return [s, `${s}.${n}`, `${s}.${n}.svc`, `${s}.${n}.svc.cluster.local`, ...(r.extraNames ?? [])];
}

const isIp = (v: string): boolean => /^\d{1,3}(\.\d{1,3}){3}$/.test(v) || v.includes(':');

export async function generateCerts(r: CertRequest): Promise<CertBundle> {
  // Loaded on demand: a server given --cert/--key never needs it. Through `default` (module.exports,
  // a CommonJS package): the bundle's chunk of it has no named exports.
  const { generate } = (await import('selfsigned')).default;
  const notBeforeDate = new Date(Date.now() - 5 * 60_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + (r.days ?? 365) * 86_400_000);
  const ca = r.ca ? { cert: r.ca.cert, private: r.ca.key } : await generate([{ name: 'commonName', value: `${r.service}-ca` }], {
    keyType: 'ec', algorithm: 'sha256', notBeforeDate, notAfterDate: new Date(notAfterDate.getTime() + 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const names = serviceNames(r);
  const leaf = await generate([{ name: 'commonName', value: names[2] ?? r.service }], {
    keyType: 'ec', algorithm: 'sha256', notBeforeDate, notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: names.map((v) => (isIp(v) ? { type: 7, ip: v } : { type: 2, value: v })) },
    ],
  });
  return { caCert: ca.cert, caKey: ca.private, cert: leaf.cert, key: leaf.private };
}

export function certificateExpiry(pem: string): Date {
  return new Date(new X509Certificate(pem).validTo);
}

/** Concatenates PEM blocks, each ending in a newline (selfsigned omits the last one). */
export function pemChain(...pems: string[]): string {
  return pems.map((p) => (p.endsWith('\n') ? p : `${p}\n`)).join('');
}
