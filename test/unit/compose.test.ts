/**
 * What docker-compose.yml must provide besides being valid (`npm run compose:check` validates it
 * against the Compose Specification in CI): a scalable worker from our Dockerfile, automatic schema
 * setup, search-attribute registration, and the simulator only in the demo profile.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SEARCH_ATTRIBUTE_NAMES } from '../../src/domain/contract';
import { loadConfig } from '../../src/hosting/config';
import { interpolate, readCompose, serviceEnvironment, serviceImageTag, serviceScript } from '../../src/dev/cluster/compose';
import { TEMPORAL_SERVER_VERSION } from '../../src/dev/cluster/temporal-server';
import { dockerfileWorkerEnv } from '../../src/dev/cluster/workers';

interface Service {
  image?: string;
  build?: unknown;
  profiles?: string[];
  ports?: string[];
  container_name?: string;
  command?: string[] | string;
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string; required?: boolean }>;
  volumes?: string[];
}

const ROOT = join(__dirname, '..', '..');
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service> };
const { services } = compose;

describe('docker-compose.yml', () => {
  it('runs PostgreSQL, Temporal from official images with its schema set up first, the UI, and the init step', () => {
    expect(services.postgresql?.image).toMatch(/^postgres:/);
    expect(services.temporal?.image).toMatch(/^temporalio\/server:/);
    expect(services['temporal-ui']?.image).toMatch(/^temporalio\/ui:/);
    expect(services['temporal-schema']?.image).toMatch(/^temporalio\/admin-tools:/);
    expect(String(services['temporal-schema']?.command)).toMatch(/setup-schema[\s\S]*update-schema[\s\S]*temporal_visibility/);
    expect(services.temporal?.depends_on?.['temporal-schema']?.condition).toBe('service_completed_successfully');
    const init = String(services['temporal-init']?.command);
    for (const name of SEARCH_ATTRIBUTE_NAMES) expect(init).toContain(name);
    expect(init).toContain('search-attribute create');
  });

  it('builds the worker from the Dockerfile, scalable (no container name, no host ports), after the init step', () => {
    const worker = services.worker!;
    expect(worker.build).toEqual({ context: '.', target: 'worker', args: { CCS_BUILD_COMMIT: '${CCS_BUILD_COMMIT:-}' } });
    expect(worker.container_name).toBeUndefined();
    expect(worker.ports).toBeUndefined();
    expect(worker.depends_on?.['temporal-init']?.condition).toBe('service_completed_successfully');
    expect(worker.depends_on?.['ccs-sim']?.required).toBe(false);
  });

  it('adds the simulator only in the demo profile, from its own image target, with a certificate for its service name', () => {
    expect(services['ccs-sim']?.profiles).toEqual(['demo']);
    expect(services['ccs-sim']?.build).toEqual({ context: '.', target: 'simulator' });
    expect(services['ccs-sim']?.command).toEqual(expect.arrayContaining(['--tls-names', 'ccs-sim']));
    for (const [name, service] of Object.entries(services))
      if (name !== 'ccs-sim' && name !== 'worker-next') expect(service.profiles, name).toBeUndefined();
  });

  it('deploys a new build beside the old one: worker-next is the worker on another image tag, in the rollout profile only', () => {
    const doc = readCompose();
    const { image: nextImage, profiles, ...next } = doc.services['worker-next'] as Service & Record<string, unknown>;
    const { image: workerImage, ...worker } = doc.services.worker as Service & Record<string, unknown>;
    expect(profiles).toEqual(['rollout']);
    expect(next).toEqual(worker);
    expect(workerImage).toBe('ccs-job-orchestrator:${CCS_ORCHESTRATOR_VERSION:-latest}');
    expect(nextImage).toBe('ccs-job-orchestrator:${CCS_ORCHESTRATOR_NEXT_VERSION:-next}');
    // Versioning on unless turned off, and the build id from the commit the image was built from.
    const env = serviceEnvironment(doc, 'worker', { POSTGRES_PASSWORD: 'pw' });
    expect(env).toMatchObject({ TEMPORAL_WORKER_VERSIONING: 'true', TEMPORAL_DEPLOYMENT_NAME: 'ccs-job-orchestrator' });
    expect(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).toMatch(/^ARG CCS_BUILD_COMMIT=$/m);
  });

  it('never puts the database password on a command line (the schema tool reads SQL_PASSWORD)', () => {
    const script = serviceScript(readCompose(), 'temporal-schema', { POSTGRES_PASSWORD: 'pw' });
    expect(script).not.toMatch(/--pw|--password|\bpw\b/);
    expect(serviceEnvironment(readCompose(), 'temporal-schema', { POSTGRES_PASSWORD: 'pw' }).SQL_PASSWORD).toBe('pw');
  });

  it('exposes nothing beyond the host by default, requires a database password, and fixes the shard count', () => {
    const text = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    expect(services.temporal?.ports).toEqual(['${TEMPORAL_BIND_ADDRESS:-127.0.0.1}:${TEMPORAL_PORT:-7233}:7233']);
    expect(services['temporal-ui']?.ports).toEqual(['${TEMPORAL_BIND_ADDRESS:-127.0.0.1}:${TEMPORAL_UI_PORT:-8233}:8080']);
    expect(services['ccs-sim']?.ports).toBeUndefined();
    expect(services.temporal?.environment?.NUM_HISTORY_SHARDS).toBe('512');
    expect(text).not.toMatch(/POSTGRES_PASSWORD:-/);
    expect(services.postgresql?.environment?.POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?/);
    expect(readFileSync(join(ROOT, '.gitignore'), 'utf8')).toMatch(/^\.env$/m);
    expect(readFileSync(join(ROOT, '.env.compose.example'), 'utf8')).toMatch(/^POSTGRES_PASSWORD=$/m);
  });

  it('gives the worker a configuration its loader accepts (the demo servers file)', () => {
    const servers = readFileSync(join(ROOT, 'deploy/demo/servers.yaml'), 'utf8');
    expect(servers).toContain('baseUrl: https://ccs-sim:12431/ccs/api/v1');
    // The file's paths are the container's; point them at the repository's copy to load it here.
    const env = { ...services.worker!.environment, CCS_SERVERS_FILE: join(ROOT, 'deploy/demo/servers.yaml') } as Record<string, string>;
    const resolved = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v).replace(/^\$\{[A-Z_]+:-(.*)\}$/, '$1')]));
    let problems: string[] = [];
    try {
      loadConfig(resolved);
    } catch (err) {
      problems = (err as { problems: string[] }).problems;
    }
    // Only the files that exist inside the container (the password and the simulator's CA) are missing here.
    expect(problems).toEqual([
      'CCS_SERVERS_FILE servers.default.passwordFile: cannot read /etc/ccs/password (ENOENT)',
      'CCS_SERVERS_FILE servers.default.caFile: cannot read /data/sim/ca.pem (ENOENT)',
    ]);
  });
});

describe('reading docker-compose.yml for the local cluster (src/dev/cluster/compose.ts)', () => {
  it('interpolates as Compose does: defaults, required values, $$ as a literal $', () => {
    const vars = { SET: 'x', EMPTY: '' };
    expect(interpolate('${SET}/${UNSET}/${EMPTY}', vars)).toBe('x//');
    expect(interpolate('${UNSET:-d} ${EMPTY:-d} ${EMPTY-d} ${SET:-d}', vars)).toBe('d d  x');
    expect(interpolate('${UNSET:-${SET}}', vars)).toBe('x');
    expect(() => interpolate('${UNSET:?set UNSET in .env}', vars)).toThrow('docker-compose.yml needs UNSET: set UNSET in .env');
    expect(() => interpolate('${EMPTY:?required}', vars)).toThrow('needs EMPTY');
    expect(interpolate('${EMPTY?required}', vars)).toBe('');
    expect(interpolate('echo "$$name" $${probe:+a}', vars)).toBe('echo "$name" ${probe:+a}');
  });

  it('gives each service its environment, image tag and script as its container would see them', () => {
    const doc = readCompose();
    const vars = { POSTGRES_PASSWORD: 'pw' };
    expect(serviceEnvironment(doc, 'temporal', vars)).toMatchObject({
      DB: 'postgres12',
      NUM_HISTORY_SHARDS: '512',
      POSTGRES_PWD: 'pw',
      DB_PORT: '5432',
      POSTGRES_PORT: '5432',
    });
    // The shared SQL settings come through the YAML merge key.
    expect(serviceEnvironment(doc, 'temporal-schema', vars)).toMatchObject({ SQL_PLUGIN: 'postgres12', SQL_PASSWORD: 'pw' });
    expect(() => serviceEnvironment(doc, 'temporal', {})).toThrow(/needs POSTGRES_PASSWORD/);
    expect(serviceImageTag(doc, 'temporal')).toBe(TEMPORAL_SERVER_VERSION);
    expect(serviceImageTag(doc, 'temporal', { TEMPORAL_VERSION: '1.30.0' })).toBe('1.30.0');
    const init = serviceScript(doc, 'temporal-init', vars);
    expect(init).toContain('names="CcsJobId CcsJobRunId CcsJobStatus CcsAttention CcsLate CcsPaused CcsServer"');
    expect(init).not.toContain('$$');
    expect(() => serviceScript(doc, 'temporal', vars)).toThrow('not a /bin/sh -c script');
  });

  it('reads the worker stage ENV of the Dockerfile', () => {
    expect(dockerfileWorkerEnv()).toEqual({
      NODE_ENV: 'production',
      WORKFLOW_BUNDLE_PATH: '/app/workflow-bundle.js',
      METRICS_BIND_ADDRESS: '127.0.0.1:9464',
      HEALTH_BIND_ADDRESS: '127.0.0.1:8080',
      LOG_LEVEL: 'INFO',
      EVIDENCE_DIR: '/var/lib/ccs-evidence',
      CCS_BUILD_COMMIT: '',
    });
    expect(dockerfileWorkerEnv('FROM a AS b\nENV A=1\nFROM c AS worker\nENV B="two words" \\\n    C=3\nCMD x')).toEqual({
      B: 'two words',
      C: '3',
    });
    // ${ARG} in ENV is the stage's build argument: its default, or what the build passes.
    expect(dockerfileWorkerEnv('FROM c AS worker\nARG X=7\nARG Y=\nENV A=${X} B=${Y} C=x${X}y\nCMD x')).toEqual({
      A: '7',
      B: '',
      C: 'x7y',
    });
    expect(dockerfileWorkerEnv('FROM c AS worker\nARG X=7\nENV A=${X}\nCMD x', { X: '8' })).toEqual({ A: '8' });
  });
});
