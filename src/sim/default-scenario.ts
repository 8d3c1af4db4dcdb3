import type { SimJobAsset, SimJob } from './state';

const WINDOWS = 'symc-csm-AssetSystem-Asset-Windows-Machine';

/** The asset group the Windows jobs target, with its members (GET /AssetGroup/{id}/Assets). */
const WINDOWS_SERVERS: SimJobAsset = {
  Id: 'c6f1a2d4-7b3e-4f0a-9d21-5e8b7a6c4d10',
  Name: 'Windows servers',
  Type: 'symc-csm-AssetSystem-AssetGroup',
  members: [
    { Id: '1d6f3b7a-2c4e-4a8b-9f10-3e5d7c9b1a21', Name: 'win-app-01', Type: WINDOWS },
    { Id: '2e7a4c8b-3d5f-4b9c-8a21-4f6e8d0c2b32', Name: 'win-app-02', Type: WINDOWS },
    { Id: '3f8b5d9c-4e6a-4cad-9b32-5a7f9e1d3c43', Name: 'win-db-01', Type: WINDOWS },
  ],
};
const CIS_WINDOWS_2022 = '9a4c2e61-5b7d-4f3a-8c19-2d6e4b8f0a55';
const PCI_DSS_4 = '7c3e1a5b-9d2f-4e6c-b8a4-1f5d3b7e9c66';

/**
 * The jobs a simulator started without `--scenario` knows: a small compliance scan's worth of
 * jobs with fixed IDs, so the README, the demo and a first try need no setup. The evaluation jobs
 * name their assets and standards, so their runs have findings (POST /Results, GET /Reports).
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
    assets: [WINDOWS_SERVERS],
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
    assets: [{ Id: WINDOWS_SERVERS.Id, Type: WINDOWS_SERVERS.Type }],
    standards: [CIS_WINDOWS_2022],
    results: { checks: 12, passRatio: 0.75, notApplicable: 1 },
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
    assets: [
      { Id: '4a9c6e0d-5f7b-4dbe-8c43-6b8a0f2e4d54', Name: 'lnx-web-01', Type: 'symc-csm-AssetSystem-Asset-Unix-Machine' },
      { Id: '5b0d7f1e-6a8c-4ecf-9d54-7c9b1a3f5e65', Name: 'ora-pay-01', Type: 'symc-csm-AssetSystem-Asset-Oracle-Database' },
    ],
    standards: [PCI_DSS_4],
    results: { checks: 8, passRatio: 0.5, errors: 1 },
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
