import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseYamlDocuments } from '../src/util/yaml.js';
import { itWithTool, probeTool } from './support/tools.js';

const ROOT = new URL('..', import.meta.url).pathname;
const out = mkdtempSync(join(tmpdir(), 'gpa-certs-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const OPENSSL = probeTool('openssl', ['version']);

/** Runs dist/main.js, which test/global-setup.ts builds from src/ once before any test. */
function runCli(args: string[]): string {
  const main = join(ROOT, 'dist/main.js');
  return execFileSync(process.execPath, [main, ...args], { cwd: ROOT, encoding: 'utf8' });
}

describe('gpu-admission certs', () => {
  it('writes a CA and a serving certificate with the Service names, a Secret and a caBundle patch', () => {
    const overlay = join(out, 'overlay');
    const stdout = runCli(['certs', '--service', 'gpu-admission', '--namespace', 'gpu-admission', '--out', out, '--kustomize', overlay, '--days', '90']);
    expect(stdout).toContain('gpu-admission.gpu-admission.svc');
    const ca = new X509Certificate(readFileSync(join(out, 'ca.crt')));
    const chain = readFileSync(join(out, 'tls.crt'), 'utf8');
    const leaf = new X509Certificate(chain);
    expect(ca.ca).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.checkPrivateKey(createPrivateKey(readFileSync(join(out, 'tls.key'))))).toBe(true);
    for (const name of ['gpu-admission', 'gpu-admission.gpu-admission', 'gpu-admission.gpu-admission.svc', 'gpu-admission.gpu-admission.svc.cluster.local', 'localhost']) {
      expect(leaf.checkHost(name)).toBe(name);
    }
    expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(leaf.checkHost('evil.example.com')).toBeUndefined();
    const days = (new Date(leaf.validTo).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(88);
    expect(days).toBeLessThan(91);
    expect(chain.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);

    const [secret] = parseYamlDocuments(readFileSync(join(overlay, 'secret.yaml'), 'utf8')).map((d) => d.value as any);
    expect(secret).toMatchObject({ kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: 'gpu-admission-tls', namespace: 'gpu-admission' } });
    expect(Buffer.from(secret.data['tls.crt'], 'base64').toString()).toBe(chain);
    const patches = parseYamlDocuments(readFileSync(join(overlay, 'cabundle-patch.yaml'), 'utf8')).map((d) => d.value as any);
    expect(patches.map((p) => p.kind)).toEqual(['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']);
    for (const p of patches) expect(Buffer.from(p.webhooks[0].clientConfig.caBundle, 'base64').toString()).toBe(readFileSync(join(out, 'ca.crt'), 'utf8'));
  });

  itWithTool(OPENSSL, 'the serving certificate verifies against the CA with openssl', () => {
    const verify = execFileSync('openssl', ['verify', '-CAfile', join(out, 'ca.crt'), join(out, 'tls.crt')], { encoding: 'utf8' });
    expect(verify).toContain(': OK');
  });

  it('rotates the serving certificate under the same CA with --reuse-ca', () => {
    const caBefore = readFileSync(join(out, 'ca.crt'), 'utf8');
    const leafBefore = new X509Certificate(readFileSync(join(out, 'tls.crt')));
    runCli(['certs', '--out', out, '--reuse-ca']);
    expect(readFileSync(join(out, 'ca.crt'), 'utf8')).toBe(caBefore);
    const leaf = new X509Certificate(readFileSync(join(out, 'tls.crt')));
    expect(leaf.serialNumber).not.toBe(leafBefore.serialNumber);
    expect(leaf.checkIssued(new X509Certificate(caBefore))).toBe(true);
    expect(() => runCli(['certs', '--out', join(out, 'empty'), '--reuse-ca'])).toThrow();
  });

  it('prints the caBundle patch with --print-patch', () => {
    const printed = runCli(['certs', '--out', join(out, 'again'), '--print-patch']);
    expect(printed).toContain('kind: ValidatingWebhookConfiguration');
    expect(printed).toContain('caBundle:');
  });
});
