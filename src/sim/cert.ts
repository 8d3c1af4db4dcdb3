/**
 * TLS material for the simulator: a private CA and a server certificate it signs, for the names
 * the simulator answers on. Real CCS servers use an internal CA too, so clients exercise the same
 * trust path (CCS_CA_FILE) against the simulator as against production.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';

export interface TlsMaterial {
  caPem: string;
  certPem: string;
  keyPem: string;
}

function newKeys(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; pem: string } {
  // Node's native generator is orders of magnitude faster than forge's pure-JS one.
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const key = forge.pki.privateKeyFromPem(privateKey);
  return { privateKey: key, publicKey: forge.pki.setRsaPublicKey(key.n, key.e), pem: privateKey };
}

function serial(): string {
  // Positive, 16 random bytes: the first nibble kept below 8 so DER does not read it as negative.
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

/**
 * A certificate as CCS binds it: self-signed, named `name` (CCS's is `Symantec_Components`), valid
 * for no host name. Its `caPem` is the certificate itself (trusting it means trusting exactly it).
 */
export function generateSelfSignedMaterial(name: string): TlsMaterial {
  const keys = newKeys();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 10 * 365 * 86_400_000);
  const subject = [{ name: 'commonName', value: name }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  const pem = forge.pki.certificateToPem(cert);
  return { caPem: pem, certPem: pem, keyPem: keys.pem };
}

/** Creates a CA and a server certificate valid for `hosts` (DNS names and IP addresses) for 2 years. */
export function generateTlsMaterial(hosts: string[] = ['localhost', '127.0.0.1', '::1']): TlsMaterial {
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 2 * 365 * 86_400_000);

  const ca = newKeys();
  const caCert = forge.pki.createCertificate();
  caCert.publicKey = ca.publicKey;
  caCert.serialNumber = serial();
  caCert.validity.notBefore = notBefore;
  caCert.validity.notAfter = notAfter;
  const caName = [
    { name: 'commonName', value: 'ccs-sim local CA' },
    { name: 'organizationName', value: 'ccs-job-orchestrator' },
  ];
  caCert.setSubject(caName);
  caCert.setIssuer(caName);
  caCert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  caCert.sign(ca.privateKey, forge.md.sha256.create());

  const server = newKeys();
  const cert = forge.pki.createCertificate();
  cert.publicKey = server.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  cert.setSubject([{ name: 'commonName', value: hosts[0] ?? 'localhost' }]);
  cert.setIssuer(caName);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: hosts.map((h) => (/^[\d.]+$|:/.test(h) ? { type: 7, ip: h } : { type: 2, value: h })),
    },
  ]);
  cert.sign(ca.privateKey, forge.md.sha256.create());

  return { caPem: forge.pki.certificateToPem(caCert), certPem: forge.pki.certificateToPem(cert), keyPem: server.pem };
}

/** Loads `ca.pem`, `cert.pem` and `key.pem` from `dir`, creating them first when absent. */
export function loadOrCreateTlsMaterial(dir: string, hosts?: string[]): TlsMaterial {
  const files = { caPem: join(dir, 'ca.pem'), certPem: join(dir, 'cert.pem'), keyPem: join(dir, 'key.pem') };
  if (Object.values(files).every((f) => existsSync(f))) {
    return {
      caPem: readFileSync(files.caPem, 'utf8'),
      certPem: readFileSync(files.certPem, 'utf8'),
      keyPem: readFileSync(files.keyPem, 'utf8'),
    };
  }
  const material = generateTlsMaterial(hosts);
  mkdirSync(dir, { recursive: true });
  writeFileSync(files.caPem, material.caPem);
  writeFileSync(files.certPem, material.certPem);
  writeFileSync(files.keyPem, material.keyPem, { mode: 0o600 });
  return material;
}
