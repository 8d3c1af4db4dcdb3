/**
 * Before a worker polls: does its namespace exist, and is every search attribute the workflows
 * upsert registered there with its type? A namespace without them accepts the worker, which reports
 * ready, and then every run's workflow task fails with BadSearchAttributes and is retried forever.
 * With TEMPORAL_REGISTER_SEARCH_ATTRIBUTES=true the missing ones are registered instead, where the
 * credentials allow it. `ccs-jobs ccs check` reports the same findings.
 */
import type { ConnectionLike } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { SearchAttribute } from '../domain/contract';

const IndexedValueType = temporal.api.enums.v1.IndexedValueType;

/** Type names as the temporal CLI and tcld write them, by the SDK's SearchAttributeType. */
const TYPE_NAMES: Readonly<Record<string, string>> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};
/** The same names by the server's IndexedValueType. */
const INDEXED_TYPE_NAMES: Readonly<Record<number, string>> = {
  [IndexedValueType.INDEXED_VALUE_TYPE_TEXT]: 'Text',
  [IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]: 'Keyword',
  [IndexedValueType.INDEXED_VALUE_TYPE_INT]: 'Int',
  [IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE]: 'Double',
  [IndexedValueType.INDEXED_VALUE_TYPE_BOOL]: 'Bool',
  [IndexedValueType.INDEXED_VALUE_TYPE_DATETIME]: 'Datetime',
  [IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST]: 'KeywordList',
};

export interface RequiredAttribute {
  name: string;
  /** As the temporal CLI writes it: `Keyword`. */
  type: string;
}

/** Every search attribute a workflow of this worker upserts (the contract's, all seven). */
export const REQUIRED_SEARCH_ATTRIBUTES: readonly RequiredAttribute[] = Object.freeze(
  Object.values(SearchAttribute).map((key) => ({ name: key.name, type: TYPE_NAMES[key.type] ?? key.type })),
);

/** What the preflight asks of Temporal; {@link namespaceAdmin} provides it over a connection. */
export interface NamespaceAdmin {
  namespaceExists(namespace: string): Promise<boolean>;
  /** Custom search attributes by name, with their type name; undefined when these credentials may not list them. */
  listSearchAttributes(namespace: string): Promise<Record<string, string> | undefined>;
  /** Whether a visibility query comparing the attribute to a keyword is accepted: the check left when listing is refused. */
  queryAccepts(namespace: string, attribute: string): Promise<boolean>;
  /** Registers these attributes (name → type name); throws what the server answered. */
  addSearchAttributes(namespace: string, attributes: Record<string, string>): Promise<void>;
}

export interface NamespaceFindings {
  namespace: string;
  exists: boolean;
  missing: string[];
  wrongType: { name: string; expected: string; actual: string }[];
  /** `list`: read with their types; `query`: listing was refused, so each was probed by a visibility query (types unseen). */
  checkedBy: 'list' | 'query';
}

/** Thrown when the worker cannot use its namespace; its message is the one line to print. */
export class NamespaceNotUsableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NamespaceNotUsableError';
  }
}

export async function inspectNamespace(
  admin: NamespaceAdmin,
  namespace: string,
  required: readonly RequiredAttribute[] = REQUIRED_SEARCH_ATTRIBUTES,
): Promise<NamespaceFindings> {
  if (!(await admin.namespaceExists(namespace)))
    return { namespace, exists: false, missing: required.map((a) => a.name), wrongType: [], checkedBy: 'list' };
  const listed = await admin.listSearchAttributes(namespace);
  if (!listed) {
    const accepted = await Promise.all(required.map((a) => admin.queryAccepts(namespace, a.name)));
    return {
      namespace,
      exists: true,
      missing: required.filter((_, i) => !accepted[i]).map((a) => a.name),
      wrongType: [],
      checkedBy: 'query',
    };
  }
  return {
    namespace,
    exists: true,
    missing: required.filter((a) => listed[a.name] === undefined).map((a) => a.name),
    wrongType: required.flatMap((a) =>
      listed[a.name] !== undefined && listed[a.name] !== a.type ? [{ name: a.name, expected: a.type, actual: listed[a.name]! }] : [],
    ),
    checkedBy: 'list',
  };
}

/** Temporal Cloud registers search attributes through its control plane (tcld), not the operator API. */
export function isTemporalCloud(address: string): boolean {
  return /\.tmprl\.cloud(:\d+)?$/i.test(address.trim());
}

/** The command that registers `names` on `namespace`: the temporal CLI's, or tcld's on Temporal Cloud. */
export function registerCommand(
  namespace: string,
  address: string,
  names: string[],
  required: readonly RequiredAttribute[] = REQUIRED_SEARCH_ATTRIBUTES,
): string {
  const typeOf = (name: string): string => required.find((a) => a.name === name)?.type ?? 'Keyword';
  if (isTemporalCloud(address))
    return `tcld namespace search-attributes add --namespace ${namespace} ${names.map((n) => `--search-attribute ${n}=${typeOf(n)}`).join(' ')}`;
  return `temporal operator search-attribute create --address ${address} --namespace ${namespace} ${names.map((n) => `--name ${n} --type ${typeOf(n)}`).join(' ')}`;
}

/** The one line saying why the worker cannot use this namespace and what fixes it; undefined when it can. */
export function namespaceProblem(found: NamespaceFindings, address: string): string | undefined {
  const { namespace } = found;
  if (!found.exists) {
    const create = isTemporalCloud(address)
      ? 'in the Temporal Cloud UI or with tcld namespace create'
      : `with temporal operator namespace create --address ${address} --namespace ${namespace}`;
    return `Temporal namespace ${namespace} does not exist at ${address}: create it ${create}, then register its search attributes (${registerCommand(namespace, address, found.missing)})`;
  }
  const parts: string[] = [];
  if (found.missing.length > 0) {
    parts.push(
      `Temporal namespace ${namespace} lacks the search attribute${found.missing.length === 1 ? '' : 's'} ${found.missing.join(', ')} that runCcsJob sets (every run's workflow task would fail with BadSearchAttributes): ` +
        `register ${found.missing.length === 1 ? 'it' : 'them'} with ${registerCommand(namespace, address, found.missing)}, or start the worker once with TEMPORAL_REGISTER_SEARCH_ATTRIBUTES=true`,
    );
  }
  for (const w of found.wrongType) {
    parts.push(
      `search attribute ${w.name} of namespace ${namespace} is ${w.actual}, not ${w.expected}: remove it (temporal operator search-attribute remove --namespace ${namespace} --name ${w.name}; on Temporal Cloud ask support) and register it as ${w.expected}`,
    );
  }
  return parts.length > 0 ? parts.join('; ') : undefined;
}

export interface PreflightOptions {
  admin: NamespaceAdmin;
  namespace: string;
  /** The Temporal address, for the commands the line names. */
  address: string;
  /** TEMPORAL_REGISTER_SEARCH_ATTRIBUTES: register the missing attributes instead of refusing. */
  register: boolean;
  /** How long registered attributes may take to be listed (the frontend caches them); default 30 s. */
  settleMs?: number;
}

/**
 * Checks the namespace; with `register`, registers the missing attributes and waits (bounded) until
 * they are listed. Resolves with the names it registered. Throws {@link NamespaceNotUsableError}
 * naming what is missing or wrongly typed and the command that fixes it (and, when registering
 * failed, why); a Temporal that cannot be asked at all throws its own error.
 */
export async function preflightNamespace(options: PreflightOptions): Promise<string[]> {
  const { admin, namespace, address } = options;
  const found = await inspectNamespace(admin, namespace);
  const problem = namespaceProblem(found, address);
  if (!problem) return [];
  if (!options.register || !found.exists || found.missing.length === 0) throw new NamespaceNotUsableError(problem);
  try {
    await admin.addSearchAttributes(
      namespace,
      Object.fromEntries(REQUIRED_SEARCH_ATTRIBUTES.filter((a) => found.missing.includes(a.name)).map((a) => [a.name, a.type])),
    );
  } catch (err) {
    throw new NamespaceNotUsableError(`${problem}; registering them failed: ${grpcReason(err)}`);
  }
  const deadline = Date.now() + (options.settleMs ?? 30_000);
  for (;;) {
    const now = await inspectNamespace(admin, namespace);
    if (now.missing.length === 0) {
      const left = namespaceProblem(now, address);
      if (left) throw new NamespaceNotUsableError(left);
      return found.missing;
    }
    if (Date.now() > deadline)
      throw new NamespaceNotUsableError(
        `${namespaceProblem(now, address)}; they were registered but are still not listed after ${Math.round((options.settleMs ?? 30_000) / 1000)} s`,
      );
    await new Promise((r) => setTimeout(r, 500));
  }
}

const GRPC_CODE_NAMES: Readonly<Record<number, string>> = {
  3: 'INVALID_ARGUMENT',
  4: 'DEADLINE_EXCEEDED',
  5: 'NOT_FOUND',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  12: 'UNIMPLEMENTED',
  14: 'UNAVAILABLE',
  16: 'UNAUTHENTICATED',
};

/** A server refusal in a few words: its gRPC status and the first line of its text. */
function grpcReason(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const text = (err instanceof Error ? err.message : String(err))
    .split('\n')[0]!
    .replace(/^\d+ [A-Z_]+: /, '')
    .slice(0, 160);
  const name = typeof code === 'number' ? GRPC_CODE_NAMES[code] : undefined;
  if (code === 7 || code === 16) return `these credentials may not register search attributes (${name}: ${text})`;
  if (code === 12) return `this server does not offer the operator API (${name}; on Temporal Cloud use tcld)`;
  return name ? `${name}: ${text}` : text;
}

const CALL_TIMEOUT_MS = 10_000;
/** A namespace just created is described at once but reaches the frontend's cache seconds later. */
const NEW_NAMESPACE_WAIT_MS = 15_000;

function codeOf(err: unknown): unknown {
  return (err as { code?: unknown }).code;
}

/** {@link NamespaceAdmin} over a connection's workflow and operator services, each call bounded. */
export function namespaceAdmin(connection: ConnectionLike): NamespaceAdmin {
  const call = <T>(fn: () => Promise<T>): Promise<T> => connection.withDeadline(Date.now() + CALL_TIMEOUT_MS, fn);
  return {
    async namespaceExists(namespace) {
      try {
        await call(() => connection.workflowService.describeNamespace({ namespace }));
        return true;
      } catch (err) {
        if (codeOf(err) === 5) return false;
        throw err;
      }
    },
    async listSearchAttributes(namespace) {
      const deadline = Date.now() + NEW_NAMESPACE_WAIT_MS;
      for (;;) {
        try {
          const answer = await call(() => connection.operatorService.listSearchAttributes({ namespace }));
          return Object.fromEntries(
            Object.entries(answer.customAttributes ?? {}).map(([name, type]) => [name, INDEXED_TYPE_NAMES[type] ?? String(type)]),
          );
        } catch (err) {
          // Refused listing (an authorizer, Temporal Cloud's operator API): the visibility probe decides.
          if ([7, 12, 16].includes(codeOf(err) as number)) return undefined;
          if (codeOf(err) !== 5 || Date.now() > deadline) throw err;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    },
    async queryAccepts(namespace, attribute) {
      try {
        await call(() => connection.workflowService.countWorkflowExecutions({ namespace, query: `${attribute} = 'ccs-jobs-preflight'` }));
        return true;
      } catch (err) {
        if (codeOf(err) === 3) return false;
        throw err;
      }
    },
    async addSearchAttributes(namespace, attributes) {
      const byName = Object.fromEntries(Object.entries(INDEXED_TYPE_NAMES).map(([type, name]) => [name, Number(type)]));
      await call(() =>
        connection.operatorService.addSearchAttributes({
          namespace,
          searchAttributes: Object.fromEntries(Object.entries(attributes).map(([name, type]) => [name, byName[type]!])),
        }),
      );
    },
  };
}
