/**
 * A CA and a serving certificate for the webhook and the extender, for clusters without
 * cert-manager. Node's crypto makes keys but cannot sign X.509, so node-forge builds the
 * certificates (docs/dependencies.md).
 */
import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import forge from 'node-forge';

export interface CertificateRequest {
  readonly service: string;
  readonly namespace: string;
  readonly validityDays: number;
  readonly extraDnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly now: Date;
  /** Reuse this CA (rotation keeps the caBundle valid); a new one otherwise. */
  readonly ca?: { readonly certPem: string; readonly keyPem: string };
}

export interface CertificateSet {
  readonly caCertPem: string;
  readonly caKeyPem: string;
  readonly certPem: string;
  readonly keyPem: string;
  readonly dnsNames: readonly string[];
  readonly notAfter: Date;
  readonly caReused: boolean;
}

/** The names a client inside the cluster uses for a Service (kube-apiserver dials `NAME.NS.svc`). */
export function serviceDnsNames(service: string, namespace: string): string[] {
  return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`];
}

function rsaKeys(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; pem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const key = forge.pki.privateKeyFromPem(pem);
  return { privateKey: key, publicKey: forge.pki.setRsaPublicKey(key.n, key.e), pem };
}

/** A positive 128-bit serial (RFC 5280: at most 20 octets, non-negative). */
function serial(): string {
  const b = randomBytes(16);
  b[0] = (b[0] ?? 0) & 0x7f;
  return b.toString('hex');
}

function dates(cert: forge.pki.Certificate, now: Date, days: number): void {
  // A minute of slack for clocks that run behind.
  cert.validity.notBefore = new Date(now.getTime() - 60_000);
  cert.validity.notAfter = new Date(now.getTime() + days * 86_400_000);
}

export function makeCertificates(req: CertificateRequest): CertificateSet {
  let caCert: forge.pki.Certificate;
  let caKey: forge.pki.rsa.PrivateKey;
  let caKeyPem: string;
  if (req.ca) {
    caCert = forge.pki.certificateFromPem(req.ca.certPem);
    caKey = forge.pki.privateKeyFromPem(req.ca.keyPem);
    caKeyPem = req.ca.keyPem;
  } else {
    const keys = rsaKeys();
    caKey = keys.privateKey;
    caKeyPem = keys.pem;
    caCert = forge.pki.createCertificate();
    caCert.publicKey = keys.publicKey;
    caCert.serialNumber = serial();
    dates(caCert, req.now, Math.max(req.validityDays, 3650));
    const subject = [{ name: 'commonName', value: `polyarch-ca.${req.namespace}` }, { name: 'organizationName', value: 'polyarch' }];
    caCert.setSubject(subject);
    caCert.setIssuer(subject);
    caCert.setExtensions([
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
      { name: 'subjectKeyIdentifier' },
    ]);
    caCert.sign(caKey, forge.md.sha256.create());
  }

  const keys = rsaKeys();
  const dnsNames = [...new Set([...serviceDnsNames(req.service, req.namespace), ...(req.extraDnsNames ?? [])])];
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  dates(cert, req.now, req.validityDays);
  cert.setSubject([{ name: 'commonName', value: `${req.service}.${req.namespace}.svc` }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [...dnsNames.map((value) => ({ type: 2, value })), ...(req.ipAddresses ?? []).map((ip) => ({ type: 7, ip }))] },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());

  const certPem = forge.pki.certificateToPem(cert);
  const caCertPem = req.ca ? req.ca.certPem : forge.pki.certificateToPem(caCert);
  // Node's own parser checks the result: the signature verifies against the CA.
  if (!new X509Certificate(certPem).verify(new X509Certificate(caCertPem).publicKey)) throw new Error('generated certificate does not verify against its CA');
  return { caCertPem, caKeyPem, certPem, keyPem: keys.pem, dnsNames, notAfter: cert.validity.notAfter, caReused: Boolean(req.ca) };
}
