/**
 * Who may decode payloads of which namespace, for the codec server. Two ways in:
 * - OIDC: the Temporal UI forwards its user's access token (`Authorization: Bearer <jwt>`); the
 *   signature (JWKS), `exp`/`nbf`, `iss` and `aud` are verified with jose, and a claim (a group list,
 *   a role) must hold a value granted the namespace the UI names in `X-Namespace`.
 * - A reverse proxy that authenticates people (SSO, mTLS) and sets a shared token header on what it
 *   forwards; the server compares it in constant time. The UI's own dev server has no login, so this
 *   is also the development path.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';

/** The caller, once authorised: the token's subject (or the proxy's user header) and the namespace. */
export interface CodecCaller {
  subject: string;
  namespace: string;
}

export type CodecAuthResult = { ok: true; caller: CodecCaller } | { ok: false; status: 401 | 403; message: string };

/** Decides one request from its headers; never throws (a failure is a refusal with its reason). */
export type CodecAuthorizer = (headers: IncomingHttpHeaders) => Promise<CodecAuthResult>;

/** Namespace → claim values that may decode it; the namespace `*` grants every namespace. */
export type NamespaceGrants = Readonly<Record<string, readonly string[]>>;

export interface OidcOptions {
  issuer: string;
  audience: string;
  /** The issuer's JWKS: fetched (and cached by jose) from a URL, or read once from a file. */
  jwks: { url: string } | { keys: JSONWebKeySet };
  /** The claim holding the caller's groups or roles (a string or an array of strings), e.g. `groups`. */
  namespaceClaim: string;
  grants: NamespaceGrants;
  /** Tolerated clock difference for exp/nbf; default 30 s. */
  clockToleranceSeconds?: number;
}

// The namespace header is echoed into logs and metric labels: keep it to what Temporal allows.
const NAMESPACE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;

function namespaceOf(headers: IncomingHttpHeaders): string | undefined {
  const value = headers['x-namespace'];
  const ns = Array.isArray(value) ? value[0] : value;
  return ns && NAMESPACE.test(ns) ? ns : undefined;
}

function granted(grants: NamespaceGrants, namespace: string, values: readonly string[]): boolean {
  return [...(grants[namespace] ?? []), ...(grants['*'] ?? [])].some((v) => values.includes(v));
}

const refuse = (status: 401 | 403, message: string): CodecAuthResult => ({ ok: false, status, message });

/** Verifies the forwarded OIDC access token; 401 for a missing or invalid token, 403 for a namespace the caller may not decode. */
export function oidcAuthorizer(options: OidcOptions): CodecAuthorizer {
  const keys = 'url' in options.jwks ? createRemoteJWKSet(new URL(options.jwks.url)) : createLocalJWKSet(options.jwks.keys);
  return async (headers) => {
    const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(headers.authorization ?? '');
    if (!match) return refuse(401, 'a bearer access token is required (turn on the UI codec setting "pass access token")');
    const namespace = namespaceOf(headers);
    if (!namespace) return refuse(403, 'the X-Namespace header must name the namespace');
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(match[1]!, keys, {
        issuer: options.issuer,
        audience: options.audience,
        clockTolerance: options.clockToleranceSeconds ?? 30,
      }));
    } catch (err) {
      // jose's codes say which check failed (expired, signature, claim) without quoting the token.
      const why =
        err instanceof joseErrors.JWTExpired
          ? 'the token has expired'
          : err instanceof joseErrors.JWTClaimValidationFailed
            ? `the token's ${err.claim} claim is not accepted`
            : err instanceof joseErrors.JWSSignatureVerificationFailed || err instanceof joseErrors.JWKSNoMatchingKey
              ? "the token is not signed by the issuer's keys"
              : 'the token cannot be verified';
      return refuse(401, why);
    }
    const subject = typeof claims.sub === 'string' ? claims.sub : 'unknown';
    const raw = claims[options.namespaceClaim];
    const values = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw.filter((v): v is string => typeof v === 'string') : [];
    if (!granted(options.grants, namespace, values)) return refuse(403, `${subject} may not decode payloads of namespace ${namespace}`);
    return { ok: true, caller: { subject, namespace } };
  };
}

export interface ProxyTokenOptions {
  /** The shared secret the proxy sets (CODEC_SERVER_TOKEN). */
  token: string;
  /** The header carrying it; `authorization` means `Authorization: Bearer <token>` (the original mode). */
  header: string;
  /** A header the proxy sets with the authenticated user (e.g. x-forwarded-user), logged as the subject. */
  userHeader?: string | undefined;
  /** Namespaces that may be decoded; empty: any. */
  namespaces: readonly string[];
}

/** Compares the proxy's token header in constant time; 401 without it, 403 for a namespace not listed. */
export function proxyTokenAuthorizer(options: ProxyTokenOptions): CodecAuthorizer {
  const header = options.header.toLowerCase();
  // Hashing first gives equal lengths, so timingSafeEqual never leaks the token's length.
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
  const expected = digest(header === 'authorization' ? `Bearer ${options.token}` : options.token);
  return (headers) => {
    const value = headers[header];
    const given = Array.isArray(value) ? value[0] : value;
    if (given === undefined || !timingSafeEqual(digest(given), expected))
      return Promise.resolve(refuse(401, `the ${options.header} header must carry the codec token`));
    const namespace = namespaceOf(headers) ?? 'default';
    if (options.namespaces.length > 0 && !options.namespaces.includes(namespace))
      return Promise.resolve(refuse(403, `namespace ${namespace} may not be decoded here`));
    const user = options.userHeader ? headers[options.userHeader.toLowerCase()] : undefined;
    const subject = (Array.isArray(user) ? user[0] : user)?.slice(0, 200) || 'proxy';
    return Promise.resolve({ ok: true, caller: { subject, namespace } });
  };
}

/** Parses CODEC_SERVER_NAMESPACE_GRANTS: `namespace=value|value;namespace=value` (`*` for every namespace). */
export function parseNamespaceGrants(text: string, problems: string[]): NamespaceGrants {
  const grants: Record<string, string[]> = {};
  for (const entry of text.split(';').map((e) => e.trim())) {
    if (!entry) continue;
    const [ns, values] = entry.split('=', 2).map((p) => p.trim());
    const list = (values ?? '')
      .split('|')
      .map((v) => v.trim())
      .filter(Boolean);
    if (!ns || (ns !== '*' && !NAMESPACE.test(ns)) || list.length === 0) {
      problems.push(`CODEC_SERVER_NAMESPACE_GRANTS entry ${JSON.stringify(entry.slice(0, 80))} must be <namespace>=<value>[|<value>...]`);
      continue;
    }
    grants[ns] = [...(grants[ns] ?? []), ...list];
  }
  return Object.freeze(grants);
}
