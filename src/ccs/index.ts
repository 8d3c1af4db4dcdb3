export { CcsClient, DEFAULT_CCS_PORT, type CcsClientOptions, type GetJobRunsOptions, type RequestStats } from './client';
export { parseCcsDate, parseJob, parseJobRuns, parseJobStatusInfo, parseStatus } from './parse';
export type { TokenStats } from './tokens';
export { JOB_STATUS_NAMES, TERMINAL_STATUSES, isTerminalStatus, type Job, type JobRun, type JobRunMessage, type JobStatusName } from './types';
