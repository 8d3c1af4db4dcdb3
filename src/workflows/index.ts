export { runCcsJob } from './run-ccs-job';
export { runCcsPipeline } from './run-ccs-pipeline';
export { resolveCcsJobNames } from './job-names';
export { ccsMaintenanceWindow } from './maintenance-window';
export { reconcileCcsRuns } from './reconcile';
export { deliverCcsNotification } from './deliver-notification';
export { ccsScanWatch } from './scan-watch';
