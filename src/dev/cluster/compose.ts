/**
 * docker-compose.yml is the one source of the production stack's settings. The local cluster reads
 * it instead of repeating it: each service's environment, its image version and its one-shot scripts
 * (schema set-up, namespace and search attributes) are taken from the file, interpolated as Compose
 * does, and only the machine-specific values (hosts, ports, paths, the generated password) replaced.
 * So whatever the cluster tests is what `docker compose up` runs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export const COMPOSE_FILE = join(__dirname, '..', '..', '..', 'docker-compose.yml');

interface ComposeService {
  image?: string;
  environment?: Record<string, string | number | boolean | null> | string[];
  entrypoint?: string[];
  command?: string[] | string;
}

export interface ComposeDocument {
  services: Record<string, ComposeService>;
}

export function readCompose(path = COMPOSE_FILE): ComposeDocument {
  // `merge: true` resolves the `<<: *anchor` keys the file uses for the shared SQL settings.
  const doc = parse(readFileSync(path, 'utf8'), { merge: true }) as ComposeDocument;
  if (!doc?.services) throw new Error(`${path} has no services`);
  return doc;
}

/**
 * Compose's variable interpolation: `$$` is a literal `$`; `${VAR}`, `${VAR:-default}` (unset or
 * empty), `${VAR-default}` (unset), `${VAR:?message}` and `${VAR?message}` (required). `$VAR` alone is
 * not used by the file and is left as is.
 */
export function interpolate(text: string, vars: Record<string, string | undefined>): string {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])((?:[^{}]|\{[^{}]*\})*))?\}/g,
    (whole, name: string | undefined, colon: string, op: string, arg: string) => {
      if (whole === '$$') return '$';
      const value = vars[name!];
      const missing = value === undefined || (colon === ':' && value === '');
      if (op === '?' && missing) throw new Error(`docker-compose.yml needs ${name}: ${arg}`);
      if (op === '-' && missing) return interpolate(arg, vars);
      return value ?? '';
    },
  );
}

function service(doc: ComposeDocument, name: string): ComposeService {
  const found = doc.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
}

/** A service's environment after interpolation, as its container would see it. */
export function serviceEnvironment(doc: ComposeDocument, name: string, vars: Record<string, string | undefined>): Record<string, string> {
  const env = service(doc, name).environment ?? {};
  const entries = Array.isArray(env)
    ? env.map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string])
    : Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)] as [string, string]);
  return Object.fromEntries(entries.map(([k, v]) => [k, interpolate(v, vars)]));
}

/** The image tag a service runs, after interpolation (`temporalio/server:${TEMPORAL_VERSION:-1.29.1}` → 1.29.1). */
export function serviceImageTag(doc: ComposeDocument, name: string, vars: Record<string, string | undefined> = {}): string {
  const image = interpolate(service(doc, name).image ?? '', vars);
  return image.slice(image.lastIndexOf(':') + 1);
}

/** The shell script of a one-shot service whose entrypoint is `/bin/sh -c`. */
export function serviceScript(doc: ComposeDocument, name: string, vars: Record<string, string | undefined>): string {
  const s = service(doc, name);
  if (s.entrypoint?.join(' ') !== '/bin/sh -c') throw new Error(`docker-compose.yml service ${name} is not a /bin/sh -c script`);
  const command = Array.isArray(s.command) ? s.command.join('\n') : (s.command ?? '');
  return interpolate(command, vars);
}
