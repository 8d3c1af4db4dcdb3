/**
 * The worker's namespace preflight over a scripted operator API: which attributes are missing or
 * wrongly typed, the one line that names them and the command that registers them (temporal CLI,
 * or tcld on Temporal Cloud), registration when asked, and the probe used when listing is refused.
 */
import { describe, expect, it } from 'vitest';
import { SEARCH_ATTRIBUTE_NAMES } from '../../src/domain/contract';
import { ConfigError, loadConfig } from '../../src/hosting/config';
import {
  REQUIRED_SEARCH_ATTRIBUTES,
  inspectNamespace,
  namespaceProblem,
  preflightNamespace,
  type NamespaceAdmin,
} from '../../src/hosting/namespace-preflight';

const OLDER_THREE = { CcsJobId: 'Keyword', CcsJobRunId: 'Keyword', CcsJobStatus: 'Keyword' };
const NEWER_FOUR = ['CcsAttention', 'CcsLate', 'CcsPaused', 'CcsServer'];

interface FakeAdmin extends NamespaceAdmin {
  attributes: Record<string, string>;
  added: Record<string, string>[];
}

function fakeAdmin(
  attributes: Record<string, string> | undefined,
  options: { exists?: boolean; listRefused?: boolean; addFails?: Error } = {},
): FakeAdmin {
  const admin: FakeAdmin = {
    attributes: { ...attributes },
    added: [],
    namespaceExists: () => Promise.resolve(options.exists ?? true),
    listSearchAttributes: () => Promise.resolve(options.listRefused ? undefined : { ...admin.attributes }),
    queryAccepts: (_, name) => Promise.resolve(name in admin.attributes),
    addSearchAttributes: (_, added) => {
      if (options.addFails) return Promise.reject(options.addFails);
      admin.added.push(added);
      Object.assign(admin.attributes, added);
      return Promise.resolve();
    },
  };
  return admin;
}

describe('namespace preflight', () => {
  it('requires every search attribute the contract defines, all Keyword', () => {
    expect(REQUIRED_SEARCH_ATTRIBUTES.map((a) => a.name)).toEqual(SEARCH_ATTRIBUTE_NAMES);
    expect(REQUIRED_SEARCH_ATTRIBUTES).toHaveLength(7);
    expect(new Set(REQUIRED_SEARCH_ATTRIBUTES.map((a) => a.type))).toEqual(new Set(['Keyword']));
  });

  it('a namespace with the older three: one line naming the four missing and the temporal command that registers them', async () => {
    const found = await inspectNamespace(fakeAdmin(OLDER_THREE), 'ccs');
    expect(found).toMatchObject({ exists: true, missing: NEWER_FOUR, wrongType: [], checkedBy: 'list' });
    const line = namespaceProblem(found, '10.0.0.5:7233');
    expect(line).not.toContain('\n');
    expect(line).toBe(
      "Temporal namespace ccs lacks the search attributes CcsAttention, CcsLate, CcsPaused, CcsServer that runCcsJob sets (every run's workflow task would fail with BadSearchAttributes): " +
        'register them with temporal operator search-attribute create --address 10.0.0.5:7233 --namespace ccs --name CcsAttention --type Keyword --name CcsLate --type Keyword --name CcsPaused --type Keyword --name CcsServer --type Keyword, ' +
        'or start the worker once with TEMPORAL_REGISTER_SEARCH_ATTRIBUTES=true',
    );
  });

  it('on Temporal Cloud the command is tcld’s', async () => {
    const line = namespaceProblem(await inspectNamespace(fakeAdmin(OLDER_THREE), 'compliance.a1b2c'), 'compliance.a1b2c.tmprl.cloud:7233');
    expect(line).toContain(
      'register them with tcld namespace search-attributes add --namespace compliance.a1b2c --search-attribute CcsAttention=Keyword --search-attribute CcsLate=Keyword --search-attribute CcsPaused=Keyword --search-attribute CcsServer=Keyword,',
    );
    expect(line).not.toContain('temporal operator');
  });

  it('a wrongly typed attribute is named with its type and the fix; all seven Keyword passes', async () => {
    const all = Object.fromEntries(SEARCH_ATTRIBUTE_NAMES.map((n) => [n, 'Keyword']));
    expect(namespaceProblem(await inspectNamespace(fakeAdmin(all), 'ccs'), 'localhost:7233')).toBeUndefined();
    const found = await inspectNamespace(fakeAdmin({ ...all, CcsLate: 'Text' }), 'ccs');
    expect(found).toMatchObject({ missing: [], wrongType: [{ name: 'CcsLate', expected: 'Keyword', actual: 'Text' }] });
    expect(namespaceProblem(found, 'localhost:7233')).toBe(
      'search attribute CcsLate of namespace ccs is Text, not Keyword: remove it (temporal operator search-attribute remove --namespace ccs --name CcsLate; on Temporal Cloud ask support) and register it as Keyword',
    );
  });

  it('a namespace that does not exist is named with the command that creates it', async () => {
    const found = await inspectNamespace(fakeAdmin(undefined, { exists: false }), 'ccs-prod');
    expect(found.exists).toBe(false);
    expect(namespaceProblem(found, 'temporal:7233')).toMatch(
      /^Temporal namespace ccs-prod does not exist at temporal:7233: create it with temporal operator namespace create --address temporal:7233 --namespace ccs-prod, then register its search attributes \(temporal operator search-attribute create .*--name CcsServer --type Keyword\)$/,
    );
  });

  it('refuses without registering unless asked; asked, registers exactly the missing ones', async () => {
    const admin = fakeAdmin(OLDER_THREE);
    await expect(preflightNamespace({ admin, namespace: 'ccs', address: 'localhost:7233', register: false })).rejects.toMatchObject({
      name: 'NamespaceNotUsableError',
      message: expect.stringContaining('lacks the search attributes CcsAttention, CcsLate, CcsPaused, CcsServer') as string,
    });
    expect(admin.added).toEqual([]);
    await expect(preflightNamespace({ admin, namespace: 'ccs', address: 'localhost:7233', register: true })).resolves.toEqual(NEWER_FOUR);
    expect(admin.added).toEqual([{ CcsAttention: 'Keyword', CcsLate: 'Keyword', CcsPaused: 'Keyword', CcsServer: 'Keyword' }]);
    await expect(preflightNamespace({ admin, namespace: 'ccs', address: 'localhost:7233', register: true })).resolves.toEqual([]);
    expect(admin.added).toHaveLength(1);
  });

  it('a registration the credentials refuse: the same line, plus why', async () => {
    const refused = Object.assign(new Error('7 PERMISSION_DENIED: Request unauthorized.'), { code: 7 });
    const error = await preflightNamespace({
      admin: fakeAdmin(OLDER_THREE, { addFails: refused }),
      namespace: 'ccs',
      address: 'localhost:7233',
      register: true,
    }).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'NamespaceNotUsableError' });
    expect((error as Error).message).toMatch(
      /^Temporal namespace ccs lacks the search attributes CcsAttention, CcsLate, CcsPaused, CcsServer .*; registering them failed: these credentials may not register search attributes \(PERMISSION_DENIED: Request unauthorized\.\)$/,
    );
  });

  it('when listing is refused, a visibility query per attribute finds the missing ones', async () => {
    const found = await inspectNamespace(fakeAdmin(OLDER_THREE, { listRefused: true }), 'ccs');
    expect(found).toMatchObject({ missing: NEWER_FOUR, checkedBy: 'query' });
  });
});

describe('TEMPORAL_REGISTER_SEARCH_ATTRIBUTES', () => {
  const BASE = { CCS_BASE_URL: 'https://ccs.example.local:12431/ccs/api/v1', CCS_USERNAME: 'CORP\\svc-ccs', CCS_PASSWORD: 'pw' };

  it('is off unless set true, and a bad value is reported with the others', () => {
    expect(loadConfig(BASE).registerSearchAttributes).toBe(false);
    expect(loadConfig({ ...BASE, TEMPORAL_REGISTER_SEARCH_ATTRIBUTES: 'true' }).registerSearchAttributes).toBe(true);
    let problems: string[] = [];
    try {
      loadConfig({ ...BASE, TEMPORAL_REGISTER_SEARCH_ATTRIBUTES: 'please', LOG_LEVEL: 'LOUD' });
    } catch (err) {
      if (err instanceof ConfigError) problems = err.problems;
    }
    expect(problems).toContain('TEMPORAL_REGISTER_SEARCH_ATTRIBUTES must be true or false; got "please"');
    expect(problems).toHaveLength(2);
  });
});
