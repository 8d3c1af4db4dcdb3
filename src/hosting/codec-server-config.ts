/**
 * The codec server's configuration from the environment: read once at start-up, every problem
 * reported together (ConfigError), never a secret in a message, the result frozen.
 */
import type { JSONWebKeySet } from 'jose';
import { parseNamespaceGrants, type NamespaceGrants } from './codec-auth';
import { ConfigError, loadCodecConfig, type CodecConfig } from './config';
import { parseBoolean, parsePositive, readFile, type Env } from './config/values';

export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_PAYLOADS = 1000;

export type CodecServerAuthConfig =
  | {
      kind: 'oidc';
      issuer: string;
      audience: string;
      jwks: { url: string } | { keys: JSONWebKeySet };
      namespaceClaim: string;
      grants: NamespaceGrants;
    }
  | { kind: 'proxy-token'; token: string; header: string; userHeader: string | undefined; namespaces: string[] };

export interface CodecServerConfig {
  codec: CodecConfig;
  auth: CodecServerAuthConfig;
  host: string;
  port: number;
  tls: { certPem: string; keyPem: string } | undefined;
  corsOrigins: string[];
  allowCredentials: boolean;
  enableEncode: boolean;
  maxBodyBytes: number;
  maxPayloads: number;
}

/** Loopback hosts, where plain http is accepted for development. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Variables of earlier versions, refused with the names that replace them (kept working: CODEC_SERVER_TOKEN/HOST/PORT). */
const RENAMED: Record<string, string> = {
  CODEC_SERVER_CORS_ORIGIN:
    'CODEC_SERVER_CORS_ORIGIN is no longer read: set CODEC_SERVER_CORS_ORIGINS (comma-separated origins of the Temporal UI)',
};

function loadAuth(env: Env, problems: string[]): CodecServerAuthConfig | undefined {
  const issuer = env.CODEC_SERVER_OIDC_ISSUER?.trim();
  const token = env.CODEC_SERVER_TOKEN;
  if (issuer && token) {
    problems.push('set either CODEC_SERVER_OIDC_ISSUER (OIDC) or CODEC_SERVER_TOKEN (behind a reverse proxy), not both');
    return undefined;
  }
  if (issuer) {
    const audience = env.CODEC_SERVER_OIDC_AUDIENCE?.trim();
    if (!audience) problems.push('CODEC_SERVER_OIDC_AUDIENCE is required with CODEC_SERVER_OIDC_ISSUER');
    const url = env.CODEC_SERVER_OIDC_JWKS_URL?.trim();
    const file = env.CODEC_SERVER_OIDC_JWKS_FILE?.trim();
    let jwks: { url: string } | { keys: JSONWebKeySet } | undefined;
    if (url && file) problems.push('set CODEC_SERVER_OIDC_JWKS_URL or CODEC_SERVER_OIDC_JWKS_FILE, not both');
    else if (url) {
      if (!/^https:\/\//.test(url) && !/^http:\/\/(127\.|localhost[:/]|\[::1\])/.test(url))
        problems.push('CODEC_SERVER_OIDC_JWKS_URL must be an https URL');
      else jwks = { url };
    } else if (file) {
      const text = readFile('CODEC_SERVER_OIDC_JWKS_FILE', file, problems);
      try {
        const keys = text === undefined ? undefined : (JSON.parse(text) as JSONWebKeySet);
        if (keys && !Array.isArray(keys.keys)) throw new Error('no keys');
        if (keys) jwks = { keys };
      } catch {
        problems.push(`CODEC_SERVER_OIDC_JWKS_FILE ${file} must hold a JSON Web Key Set ({"keys": [...]})`);
      }
    } else problems.push('CODEC_SERVER_OIDC_JWKS_URL or CODEC_SERVER_OIDC_JWKS_FILE is required with CODEC_SERVER_OIDC_ISSUER');
    const grantsText = env.CODEC_SERVER_NAMESPACE_GRANTS?.trim();
    if (!grantsText)
      problems.push(
        'CODEC_SERVER_NAMESPACE_GRANTS is required with OIDC, e.g. default=ccs-operators|ccs-admins (who may decode which namespace)',
      );
    const grants = parseNamespaceGrants(grantsText ?? '', problems);
    const namespaceClaim = env.CODEC_SERVER_NAMESPACE_CLAIM?.trim() || 'groups';
    return audience && jwks ? { kind: 'oidc', issuer, audience, jwks, namespaceClaim, grants } : undefined;
  }
  if (token !== undefined) {
    if (token.length < 32) problems.push('CODEC_SERVER_TOKEN must be 32+ characters (e.g. openssl rand -base64 32)');
    const header = env.CODEC_SERVER_TOKEN_HEADER?.trim() || 'authorization';
    if (!/^[A-Za-z0-9-]{1,64}$/.test(header)) problems.push('CODEC_SERVER_TOKEN_HEADER must be a header name, e.g. X-Codec-Token');
    const userHeader = env.CODEC_SERVER_USER_HEADER?.trim() || undefined;
    const namespaces = (env.CODEC_SERVER_NAMESPACES ?? '')
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean);
    return token.length >= 32 ? { kind: 'proxy-token', token, header, userHeader, namespaces } : undefined;
  }
  problems.push(
    'set CODEC_SERVER_OIDC_ISSUER (OIDC) or CODEC_SERVER_TOKEN (a token header set by a reverse proxy): see docs/operations.md',
  );
  return undefined;
}

/** Reads the codec server's variables; throws ConfigError listing every problem. */
export function loadCodecServerConfig(env: Env): Readonly<CodecServerConfig> {
  const problems: string[] = [];
  for (const [name, line] of Object.entries(RENAMED)) if (env[name] !== undefined) problems.push(line);
  const codec = loadCodecConfig(env, problems);
  if (!codec && !env.CCS_CODEC_KEYS?.trim()) problems.push('CCS_CODEC_KEYS is required');
  const auth = loadAuth(env, problems);
  const host = env.CODEC_SERVER_HOST?.trim() || '127.0.0.1';
  const port = env.CODEC_SERVER_PORT?.trim() ? Number(env.CODEC_SERVER_PORT) : 8888;
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push('CODEC_SERVER_PORT must be 0-65535');
  const certFile = env.CODEC_SERVER_TLS_CERT_FILE?.trim();
  const keyFile = env.CODEC_SERVER_TLS_KEY_FILE?.trim();
  let tls: CodecServerConfig['tls'];
  if (certFile || keyFile) {
    if (!certFile || !keyFile) problems.push('CODEC_SERVER_TLS_CERT_FILE and CODEC_SERVER_TLS_KEY_FILE go together');
    const certPem = certFile ? readFile('CODEC_SERVER_TLS_CERT_FILE', certFile, problems) : undefined;
    const keyPem = keyFile ? readFile('CODEC_SERVER_TLS_KEY_FILE', keyFile, problems) : undefined;
    if (certPem && keyPem) tls = { certPem, keyPem };
  } else if (!isLoopback(host)) {
    problems.push(
      `CODEC_SERVER_HOST ${host} is not loopback: set CODEC_SERVER_TLS_CERT_FILE and CODEC_SERVER_TLS_KEY_FILE (plain http only on 127.0.0.1 for development or behind a local proxy)`,
    );
  }
  const corsOrigins = (env.CODEC_SERVER_CORS_ORIGINS ?? '')
    .split(',')
    .map((o) => o.trim().replace(/\/$/, ''))
    .filter(Boolean);
  for (const origin of corsOrigins)
    if (!/^https?:\/\/[^/\s*]+$/.test(origin))
      problems.push(`CODEC_SERVER_CORS_ORIGINS entry ${JSON.stringify(origin)} must be an origin such as https://temporal.example.com`);
  const allowCredentials = parseBoolean('CODEC_SERVER_CORS_ALLOW_CREDENTIALS', env.CODEC_SERVER_CORS_ALLOW_CREDENTIALS, problems);
  const enableEncode = parseBoolean('CODEC_SERVER_ENABLE_ENCODE', env.CODEC_SERVER_ENABLE_ENCODE, problems);
  const maxBodyBytes =
    parsePositive('CODEC_SERVER_MAX_BODY_BYTES', env.CODEC_SERVER_MAX_BODY_BYTES, problems, true) ?? DEFAULT_MAX_BODY_BYTES;
  const maxPayloads = parsePositive('CODEC_SERVER_MAX_PAYLOADS', env.CODEC_SERVER_MAX_PAYLOADS, problems, true) ?? DEFAULT_MAX_PAYLOADS;
  if (problems.length > 0 || !codec || !auth) throw new ConfigError(problems);
  return Object.freeze({ codec, auth, host, port, tls, corsOrigins, allowCredentials, enableEncode, maxBodyBytes, maxPayloads });
}
