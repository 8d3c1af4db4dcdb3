export { runCcsJob } from './run-ccs-job';
