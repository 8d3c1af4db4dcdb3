/**
 * The simulator's Search Jobs (`GET /Jobs?Attributes=(<attr> <op> <value>, …)&page=&pagesize=`,
 * the reference §1.5 and §6.1): its own reading of the attribute syntax, independent of the client.
 *
 * Terms are joined by `,` or `&` (AND) or `|` (OR, lower precedence); operators `=` (with `*` as a
 * wildcard), `Contains` and `StartsWith`, matched case-sensitively as the asset page says of
 * operators, while values compare case-insensitively (SQL Server's default collation). Paging is
 * zero-based; results are ordered by name, then ID, so pages never overlap.
 */
import { HttpError } from './wire';
import type { SimJob, SimState } from './state';

export const SEARCHABLE = [
  'JobName',
  'JobID',
  'JobCategory',
  'JobType',
  'JobCreationTime',
  'JobModifiedTime',
  'LastRunStatus',
  'LastRunDate',
] as const;
type Operator = '=' | 'Contains' | 'StartsWith';

interface Term {
  attribute: (typeof SEARCHABLE)[number];
  operator: Operator;
  value: string;
}

/** Alternatives (OR) of conjunctions (AND) of terms. */
type Query = Term[][];

const STATUS_NAMES = ['Unknown', 'Pending', 'Executing', 'Idle', 'Completed', 'Faulted', 'Custom', 'Aborted'];

function parseTerm(text: string): Term {
  const m = /^\s*([A-Za-z]+)\s*(=|\s(?:Contains|StartsWith)\s)\s*(.*?)\s*$/.exec(text);
  if (!m)
    throw new HttpError(400, `The search term ${JSON.stringify(text.slice(0, 80))} is not of the form <attribute> <operator> <value>.`);
  const attribute = SEARCHABLE.find((a) => a.toLowerCase() === m[1]!.toLowerCase());
  if (!attribute)
    throw new HttpError(400, `The attribute ${JSON.stringify(m[1])} is not searchable; searchable: ${SEARCHABLE.join(', ')}.`);
  return { attribute, operator: m[2]!.trim() as Operator, value: m[3]! };
}

/** Reads an `Attributes` value: `(A = x, B Contains y | C StartsWith z)`, parentheses optional. */
export function parseSearch(text: string): Query {
  let body = text.trim();
  if (body.startsWith('(') && body.endsWith(')')) body = body.slice(1, -1);
  if (body.trim() === '') throw new HttpError(400, 'The Attributes parameter is mandatory.');
  return body.split('|').map((alternative) => alternative.split(/[,&]/).map(parseTerm));
}

/** What a job's attribute reads as, for matching. */
function attributeOf(state: SimState, job: SimJob, attribute: Term['attribute']): string {
  const latest = state.runsOf(job.JobID)[0];
  switch (attribute) {
    case 'JobName':
      return job.JobName;
    case 'JobID':
      return job.JobID;
    case 'JobType':
      return job.JobType ?? 'CollectionEvaluationJob';
    case 'JobCategory':
      return 'User';
    case 'LastRunStatus': {
      if (!latest) return 'Unknown';
      const status = state.view(latest).status;
      return typeof status === 'number' ? (STATUS_NAMES[status] ?? String(status)) : String(status);
    }
    case 'LastRunDate':
      return latest ? new Date(latest.startedAt).toISOString() : '';
    default:
      return '';
  }
}

function matches(actual: string, term: Term): boolean {
  const a = actual.toLowerCase();
  const v = term.value.toLowerCase();
  if (term.operator === 'Contains') return a.includes(v);
  if (term.operator === 'StartsWith') return a.startsWith(v);
  if (!v.includes('*')) return a === v;
  const pattern = v
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${pattern}$`, 's').test(a);
}

export interface SearchPaging {
  /** Page size when the request names none. */
  defaultPageSize: number;
  /** Larger page sizes are served at this size. */
  maxPageSize: number;
}

/** The jobs of one page of a search, in a stable order. */
export function searchJobs(
  state: SimState,
  attributes: string,
  page: string | undefined,
  pageSize: string | undefined,
  paging: SearchPaging,
): SimJob[] {
  const query = parseSearch(attributes);
  for (const [name, value] of [
    ['page', page],
    ['pagesize', pageSize],
  ] as const) {
    if (value !== undefined && !/^\d{1,9}$/.test(value)) throw new HttpError(400, `The ${name} parameter must be a non-negative integer.`);
  }
  const size = Math.min(paging.maxPageSize, pageSize === undefined ? paging.defaultPageSize : Math.max(1, Number(pageSize)));
  const index = page === undefined ? 0 : Number(page);
  const found = [...state.jobs.values()]
    .filter((job) => query.some((all) => all.every((term) => matches(attributeOf(state, job, term.attribute), term))))
    .sort((x, y) => x.JobName.localeCompare(y.JobName) || x.JobID.localeCompare(y.JobID));
  return found.slice(index * size, index * size + size);
}
