/** The benchmark's phases, one file each. */
export { approach } from './baselines';
export { concurrency } from './concurrency';
export { detectionLag } from './detection-lag';
export { history } from './history';
export { scrubCost, scrubTable } from './scrub';
export { throughput } from './throughput';
