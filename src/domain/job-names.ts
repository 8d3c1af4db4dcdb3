/**
 * Jobs by name: operators know "Nightly CER - Linux", not its GUID. CCS job names are not unique, so
 * a name resolves only when exactly one job carries it; otherwise the error lists the candidates.
 * Pure: workflows import it.
 */
import { invalidInput, preview } from './validation';

/** A job CCS found under a name, as much as an operator needs to choose. */
export interface JobCandidate {
  jobId: string;
  name: string | null;
  type: string | null;
}

/** Job names are 1 to 256 characters, no control characters. */
export const MAX_JOB_NAME = 256;
/** At most this many candidates are carried per name (the error says how many more there were). */
export const MAX_CANDIDATES = 20;

/** Throws `CcsInvalidInput` naming `field` when `value` is not a usable job name. */
export function requireJobName(field: string, value: unknown): string {
  // eslint-disable-next-line no-control-regex
  if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_JOB_NAME || /[\u0000-\u001f\u007f]/.test(value)) {
    throw invalidInput(
      `${field} must be a CCS job name of 1 to ${MAX_JOB_NAME} characters (the exact name, as in the CCS console); got ${preview(value)}`,
    );
  }
  return value;
}

/**
 * The one JobID a name stands for. `found` is what Search Job by Name answered (exact, case-sensitive
 * names: a case-insensitive CCS may answer more, which is filtered here), `total` how many it answered.
 */
export function resolveJobName(name: string, server: string, found: JobCandidate[], total = found.length): string {
  const exact = found.filter((job) => job.name === name);
  if (exact.length === 1) return exact[0]!.jobId;
  const describe = (list: JobCandidate[]): string =>
    list.map((job) => `${job.jobId} (${job.name ?? 'no name'}${job.type ? `, ${job.type}` : ''})`).join('; ');
  if (exact.length === 0) {
    const near = found.length > 0 ? `; CCS answered with differently written names: ${describe(found)}` : '';
    throw invalidInput(
      `no CCS job on server ${JSON.stringify(server)} is named exactly ${JSON.stringify(name)}${near}; check the name in the CCS console or pass the JobID`,
    );
  }
  const more = total > found.length ? ` and ${total - found.length} more` : '';
  throw invalidInput(
    `${exact.length}${more} CCS jobs on server ${JSON.stringify(server)} are named ${JSON.stringify(name)}: ${describe(exact)}; pass the JobID of the one you mean`,
  );
}
