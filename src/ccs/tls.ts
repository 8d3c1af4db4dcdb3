/**
 * Trusting a CCS server's certificate. CCS binds a certificate named `Symantec_Components` to its
 * REST port, usually self-signed and not named after the host, so besides a CA file this client
 * accepts a certificate by its SHA-256 fingerprint (a pin; a list, for rotation) or checks a
 * configured name instead of the URL's host. Verification is done here, after the handshake, on
 * every connection, so that a refusal can describe the certificate that was presented and name the
 * exact setting that would trust it.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { checkServerIdentity, connect, type PeerCertificate, type TLSSocket } from 'node:tls';
import { buildConnector } from 'undici';

/** How one CCS server's certificate is trusted; the settings' names are in {@link TLS_SETTINGS}. */
export interface TlsTrust {
  /** PEM of the CA(s) that signed the certificate, beside the system store. */
  ca?: string | Buffer | undefined;
  /** The name the certificate must carry, checked instead of the URL's host (the chain is still verified). */
  servername?: string | undefined;
  /** Fingerprints of certificates accepted as they are, self-signed included: chain and name are not checked. */
  pinSha256?: readonly string[] | undefined;
  /** No verification at all. Last resort, warned. */
  insecure?: boolean | undefined;
}

/** The settings as an operator writes them: environment, and the CCS_SERVERS_FILE key. */
export const TLS_SETTINGS = {
  ca: 'CCS_CA_FILE (caFile in CCS_SERVERS_FILE)',
  servername: 'CCS_TLS_SERVERNAME (tlsServername in CCS_SERVERS_FILE)',
  pin: 'CCS_TLS_PIN_SHA256 (tlsPinSha256 in CCS_SERVERS_FILE)',
  insecure: 'CCS_TLS_INSECURE=true',
} as const;

/** What a server presented, as a person compares it with what they expect. */
export interface PresentedCertificate {
  subject: string;
  /** DNS names and IP addresses the certificate is valid for. */
  subjectAltNames: string[];
  issuer: string;
  validFrom: string;
  validTo: string;
  /** SHA-256 of the DER certificate, `AB:CD:…` (64 hex digits), as browsers and `openssl x509 -fingerprint -sha256` show it. */
  sha256: string;
  selfSigned: boolean;
}

/** Why a presented certificate is not trusted. */
export type TlsRefusal = 'not-pinned' | 'name-mismatch' | 'expired' | 'not-yet-valid' | 'self-signed' | 'unknown-issuer' | 'untrusted';

/** A certificate this client does not trust, with what was presented. */
export class TlsTrustError extends Error {
  readonly code = 'ERR_TLS_CERT_UNTRUSTED';

  constructor(
    readonly refusal: TlsRefusal,
    readonly detail: string,
    readonly certificate: PresentedCertificate | null,
    /** The name that was checked against the certificate. */
    readonly checkedName: string,
  ) {
    super(`certificate not trusted: ${detail}`);
    this.name = 'TlsTrustError';
  }
}

/**
 * A fingerprint as written anywhere (`AB:CD:…`, `abcd…`, with spaces, `sha256/` or `SHA256=` before
 * it) in the canonical `AB:CD:…` form, or null when it is not 32 bytes of hex.
 */
export function normalizeFingerprint(text: string): string | null {
  const hex = text
    .trim()
    .replace(/^sha-?256\s*[:=/]?\s*(fingerprint\s*=\s*)?/i, '')
    .replace(/[\s:]/g, '')
    .toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) return null;
  return hex.match(/../g)!.join(':');
}

function distinguishedName(fields: Record<string, string | string[] | undefined> | undefined): string {
  if (!fields) return '';
  return Object.entries(fields)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : (v ?? '')}`)
    .join(', ');
}

export function describeCertificate(cert: PeerCertificate): PresentedCertificate {
  const subject = distinguishedName(cert.subject);
  const issuer = distinguishedName(cert.issuer);
  return {
    subject,
    subjectAltNames: (cert.subjectaltname ?? '')
      .split(',')
      .map((s) => s.trim().replace(/^(DNS|IP Address):/, ''))
      .filter(Boolean),
    issuer,
    validFrom: new Date(cert.valid_from).toISOString(),
    validTo: new Date(cert.valid_to).toISOString(),
    sha256: cert.raw ? createHash('sha256').update(cert.raw).digest('hex').toUpperCase().match(/../g)!.join(':') : cert.fingerprint256,
    selfSigned: subject === issuer,
  };
}

/** The refusal an OpenSSL verification code means. */
function refusalOf(code: string): TlsRefusal {
  if (code === 'CERT_HAS_EXPIRED') return 'expired';
  if (code === 'CERT_NOT_YET_VALID') return 'not-yet-valid';
  if (code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || code === 'SELF_SIGNED_CERT_IN_CHAIN') return 'self-signed';
  if (code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' || code === 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' || code === 'UNABLE_TO_GET_ISSUER_CERT')
    return 'unknown-issuer';
  return 'untrusted';
}

/**
 * Whether the peer of `socket` (connected with verification deferred to here) is trusted for `host`:
 * undefined when it is, else why not. A pin decides alone; otherwise the chain must verify against the
 * CA file or the system store and the certificate must carry `servername`, or else the URL's host.
 */
export function verifyPeer(socket: TLSSocket, host: string, trust: TlsTrust): TlsTrustError | undefined {
  if (trust.insecure) return undefined;
  const name = trust.servername ?? host;
  const peer = socket.getPeerCertificate();
  if (!peer || !peer.raw) return new TlsTrustError('untrusted', 'the server presented no certificate', null, name);
  const certificate = describeCertificate(peer);
  if (trust.pinSha256 && trust.pinSha256.length > 0) {
    if (trust.pinSha256.includes(certificate.sha256)) return undefined;
    return new TlsTrustError('not-pinned', `its SHA-256 fingerprint is not among the ${trust.pinSha256.length} pinned`, certificate, name);
  }
  if (!socket.authorized) {
    const code = String(socket.authorizationError ?? 'UNKNOWN');
    return new TlsTrustError(refusalOf(code), code, certificate, name);
  }
  const mismatch = checkServerIdentity(name, peer);
  if (mismatch) return new TlsTrustError('name-mismatch', `it is not valid for the name ${JSON.stringify(name)}`, certificate, name);
  return undefined;
}

/** An undici connector that verifies every new connection with {@link verifyPeer}. */
export function trustingConnector(trust: TlsTrust, timeoutMs: number): buildConnector.connector {
  const base = buildConnector({
    timeout: timeoutMs,
    ...(trust.ca ? { ca: trust.ca } : {}),
    // Verified in verifyPeer, which can then say what was presented; `authorized` still reports the chain.
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined,
    // A resumed session shows no peer certificate to check: every connection does a full handshake
    // (connections are kept alive, so that is one per socket, not per request).
    maxCachedSessions: 0,
  });
  return (options, callback) =>
    base(options, (err, socket) => {
      if (err || !socket) return callback(err ?? new Error('no socket'), null);
      if (options.protocol !== 'https:') return callback(null, socket);
      const refused = verifyPeer(socket as TLSSocket, options.hostname, trust);
      if (!refused) return callback(null, socket);
      socket.destroy();
      callback(refused, null);
    });
}

/** One line a person can act on: what was presented, why it is refused, the setting that would trust it. */
export function untrustedMessage(origin: string, err: TlsTrustError): string {
  const cert = err.certificate;
  if (!cert) return `TLS with ${origin}: ${err.detail}`;
  const names = cert.subjectAltNames.length > 0 ? cert.subjectAltNames.join(', ') : 'none';
  const presented = `subject ${cert.subject || '(empty)'}; SANs ${names}; issuer ${cert.selfSigned ? 'itself (self-signed)' : cert.issuer}; valid ${cert.validFrom} to ${cert.validTo}; SHA-256 ${cert.sha256}`;
  const pin = `${TLS_SETTINGS.pin}=${cert.sha256}`;
  let fix: string;
  switch (err.refusal) {
    case 'not-pinned':
      fix = `if this certificate is CCS's new one, add its fingerprint to ${TLS_SETTINGS.pin} (a comma-separated list: keep the old one until every server presents the new)`;
      break;
    case 'name-mismatch': {
      const carried = cert.subjectAltNames[0] ?? /CN=([^,]+)/.exec(cert.subject)?.[1];
      fix = carried
        ? `check the name it carries instead: ${TLS_SETTINGS.servername}=${carried}; or trust exactly this certificate: ${pin}`
        : `trust exactly this certificate: ${pin}`;
      break;
    }
    case 'expired':
    case 'not-yet-valid':
      fix = `have CCS's certificate renewed; to accept exactly this one meanwhile: ${pin}`;
      break;
    case 'self-signed':
      fix = `trust exactly this certificate: ${pin}`;
      break;
    default:
      fix = `trust its issuer with ${TLS_SETTINGS.ca} (a PEM of ${cert.issuer}), or exactly this certificate: ${pin}`;
  }
  return `TLS with ${origin} refused the certificate it presented (${err.detail}, checked for ${JSON.stringify(err.checkedName)}): ${presented}. To trust it: ${fix}. ${TLS_SETTINGS.insecure} turns verification off (last resort)`;
}

/** What {@link inspectServer} saw. */
export interface ServerInspection {
  origin: string;
  /** The leaf first, as the server sent its chain. */
  chain: PresentedCertificate[];
  /** Why the configured trust refuses it, or null when it is trusted. */
  refusal: TlsTrustError | null;
  /** The certificate verifies against the system store (and the CA file, if given) for the URL's host. */
  trustedByStore: boolean;
  protocol: string | null;
  /** The certificate as PEM, for a CA file when it is self-signed. */
  pem: string | null;
}

/**
 * Connects to `url`, reads the certificate chain it presents and says whether `trust` accepts it.
 * Sends nothing over the connection: safe against any server.
 */
export function inspectServer(url: string, trust: TlsTrust = {}, timeoutMs = 10_000): Promise<ServerInspection> {
  const target = new URL(url);
  const port = Number(target.port || 443);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const socket = connect({
      host,
      port,
      ...(/^[\d.]+$|:/.test(host) ? {} : { servername: host }),
      ...(trust.ca ? { ca: trust.ca } : {}),
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
      timeout: timeoutMs,
    });
    socket.once('timeout', () => socket.destroy(new Error(`no TLS handshake with ${target.host} within ${timeoutMs} ms`)));
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      const chain: PresentedCertificate[] = [];
      let pem: string | null = null;
      let cert: PeerCertificate | undefined = socket.getPeerCertificate(true);
      const seen = new Set<string>();
      while (cert && cert.raw && !seen.has(cert.fingerprint256)) {
        seen.add(cert.fingerprint256);
        chain.push(describeCertificate(cert));
        pem ??= new X509Certificate(cert.raw).toString();
        cert = (cert as { issuerCertificate?: PeerCertificate }).issuerCertificate;
      }
      const refusal = verifyPeer(socket, host, trust) ?? null;
      const trustedByStore = socket.authorized && !checkServerIdentity(host, socket.getPeerCertificate());
      resolve({ origin: target.origin, chain, refusal, trustedByStore, protocol: socket.getProtocol(), pem });
      socket.end();
    });
  });
}
