import type { SimJob } from './state';

/**
 * The jobs a simulator started without `--scenario` knows: a small compliance scan's worth of
 * jobs with fixed IDs, so the README, the demo and a first try need no setup.
 */
export const DEFAULT_JOBS: SimJob[] = [
  {
    JobID: '0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16',
    JobName: 'Data collection - Windows servers',
    JobType: 'CollectionJob',
    steps: [
      ['Pending', 2],
      ['Executing', 8],
      ['Completed', 0],
    ],
    summary: 'Collected 48 of 48 assets',
  },
  {
    JobID: '24f58e54-5d94-45f8-97a8-ccb6d959233a',
    JobName: 'Evaluation - CIS Windows Server 2022',
    JobType: 'EvaluationJob',
    steps: [
      ['Pending', 1],
      ['Executing', 6],
      ['Completed', 0],
    ],
    summary: 'Evaluated 48 assets against 312 checks',
  },
  {
    JobID: 'a282d163-2248-4904-8135-0eaf08be8e55',
    JobName: 'Evaluation - PCI DSS 4.0',
    JobType: 'EvaluationJob',
    steps: [
      ['Pending', 1],
      ['Executing', 5],
      ['Faulted', 0],
    ],
    exception: 'Evaluation failed: standard PCI DSS 4.0 has no checks for 2 asset types.',
    messages: [
      { Message: 'No applicable checks for asset type symc-csm-AssetSystem-Asset-Unix-Machine' },
      { Message: 'No applicable checks for asset type symc-csm-AssetSystem-Asset-Oracle-Database' },
    ],
  },
  {
    JobID: '6b020d29-5fe8-47d0-bd89-ccd3339a5ebe',
    JobName: 'Reporting - monthly compliance',
    JobType: 'ReportingJob',
    steps: [
      ['Pending', 1],
      ['Executing', 600],
      ['Completed', 0],
    ],
  },
];
