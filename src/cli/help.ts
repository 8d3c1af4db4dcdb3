/** The `ccs-jobs` help texts: the overview and one per command, each with examples. */
import { DEFAULT_TASK_QUEUE } from '../domain/contract';

const GLOBAL_HELP = `Global options: --address HOST:PORT (default TEMPORAL_ADDRESS or localhost:7233), --namespace NS,
  --task-queue NAME (default ${DEFAULT_TASK_QUEUE}), --verbose (stack traces), --help`;

/** `--help` text per command; '' is the overview. */
export const HELP: Record<string, string> = {
  '': `ccs-jobs: durable CCS job runs on Temporal

Commands:
  run <JobID>|--name N    start (or attach to) a runCcsJob workflow; --wait to follow it
  status <workflowId>     what a job or pipeline workflow is doing
  cancel <workflowId>     abort the CCS run(s) of a job or pipeline workflow
  pause <workflowId>      hold a job or pipeline: no CCS request, no new job, no abort (--until, --hold-deadline)
  resume <workflowId>     end a pause
  evidence list|show|verify|export   the tamper-evident record of every closed run (EVIDENCE_DIR)
  report <workflowId> --html FILE    a pipeline run as a self-contained HTML page: timeline, jobs, summary
  reconcile               CCS runs no workflow follows (terminated workflows, console runs): report, adopt, abort
  maintenance ...         start|end|list a CCS server's maintenance window: its runs hold, then resume
  list                    job workflows, filtered by CCS status or job
  pipeline run|validate   scan pipelines from a YAML or JSON file
  schedule ...            create, list, describe, pause, unpause, trigger, delete schedules
  ccs check|inspect       first contact with a CCS server: trust, token, dialect; check also reads the Temporal namespace
  worker                  run a worker (same as npm run worker)

Run "ccs-jobs <command> --help" for a command's options and examples.
Exit codes: 0 completed, 1 error, 2 faulted/failed, 3 aborted/cancelled, 4 timed out, 5 runs without an owner (reconcile).
${GLOBAL_HELP}`,
  run: `ccs-jobs run <JobID> | --name "<JobName>" [--wait] [--expect 45m|auto [--expect-factor 1.5]] [--ccs <server>] [--poll 30s] [--max-poll 5m] [--timeout 8h] [--if-running attach] [--id <workflowId>] [--json]

Starts runCcsJob for the CCS job. The workflow id defaults to ccs-job-<JobID>: running a job that is
already being orchestrated attaches to that workflow instead of starting a second run.
  --name            the job's exact name in CCS instead of its JobID: resolved once, by a worker (it holds the
                    CCS credentials), before anything starts; exactly one job of that name, else an error listing them
  --wait            follow the run until it ends; exit 0 when Completed, non-zero otherwise
  --ccs             the CCS server that runs the job, by its name in the worker's CCS_SERVERS_FILE (default: default)
  --poll, --max-poll  first and longest wait between status reads (at least 1s)
  --timeout         abort the run and fail when it takes longer
  --if-running attach  follow a run of the job that is already executing instead of failing
  --expect 45m|auto flag the run LATE (status, CcsLate, a metric, one WARN log) when it takes longer than this;
                    auto: the p95 of the job's last completed runs × --expect-factor (default 1.5); never aborts
  --json            machine-readable output

Examples:
  ccs-jobs run 0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16 --wait
  ccs-jobs run 0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16 --timeout 8h --poll 1m --json
  ccs-jobs run 24f58e54-5d94-45f8-97a8-ccb6d959233a --ccs emea --wait
  ccs-jobs run --name "Data collection - Windows servers" --wait`,
  status: `ccs-jobs status <workflowId> [--json]

Shows what a job or pipeline workflow is doing: phase, CCS status, polls, run id; for a pipeline, each
stage and job with the live CCS status of running jobs.
Examples:
  ccs-jobs status ccs-job-0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16
  ccs-jobs status ccs-pipeline-nightly-scan --json`,
  cancel: `ccs-jobs cancel <workflowId> [--reason TEXT]

Sends the cancel signal: the workflow aborts its CCS run(s) and waits until CCS confirms.
Examples:
  ccs-jobs cancel ccs-job-0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16 --reason "maintenance window"
  ccs-jobs cancel ccs-pipeline-nightly-scan`,
  pause: `ccs-jobs pause <workflowId> [--reason TEXT] [--until 2h|2026-12-01T06:00:00Z] [--hold-deadline]

Sends the pause signal. A paused runCcsJob stops polling (its wait in flight is stopped first, so
nothing more reaches CCS), does not abort its run, and shows phase paused and CcsPaused; a paused
pipeline starts no new stage or job and pauses its running jobs. A cancel while paused still aborts.
  --until          resume by itself after this duration or at this time (default: until ccs-jobs resume)
  --hold-deadline  stop the run's timeout clock while paused (default: deadlines keep counting)
Examples:
  ccs-jobs pause ccs-job-0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16 --reason "CCS patching CHG0012345" --until 2h
  ccs-jobs pause ccs-pipeline-nightly-scan --hold-deadline`,
  report: `ccs-jobs report <pipeline workflowId> --html FILE

A self-contained HTML page (no script, no network fetch) of a pipeline run, from Temporal: its stages
and jobs as a timeline (bars from start to end, coloured by outcome), each job's status, duration,
exception and messages, and a summary. For runs older than Temporal keeps, use
ccs-jobs evidence export --format html.
Examples:
  ccs-jobs report ccs-pipeline-nightly-scan --html nightly.html`,
  evidence: `ccs-jobs evidence list [--since 30d] [--job <JobID>] [--status Faulted] [--json] [--dir DIR]
ccs-jobs evidence show <workflowId> [--dir DIR]
ccs-jobs evidence verify [--anchor SEQ:HASH]... [--after SEQ:HASH] [--json] [--dir DIR]
ccs-jobs evidence export --format json|csv|html [--since 30d] [--job <JobID>] [--status S] --out FILE [--dir DIR]

Every runCcsJob and runCcsPipeline writes one record when it closes, whatever the outcome, into a
SHA-256 hash chain (each record carries the previous record's hash) of JSON Lines files in the
workers' EVIDENCE_DIR (--dir, default ./evidence). verify walks the chain: exit 0 when intact,
2 naming the first edited, removed or reordered record. It prints the head as SEQ:HASH: keep it
elsewhere (a ticket, another system) and pass it later as --anchor, which also finds the newest
records removed (a shorter chain is valid in itself). --after starts at the record following an
archived head (older month files moved away after a passing verify).
Examples:
  ccs-jobs evidence list --since 30d --status Faulted
  ccs-jobs evidence verify --anchor 1042:<the 64 hex digits verify printed last week>
  ccs-jobs evidence export --format csv --since 366d --out scans-2026.csv`,
  reconcile: `ccs-jobs reconcile [--ccs NAME] (--jobs ID,ID | --search "ATTRS" | --recent 7d) [--policy report|adopt|abort]
                   [--max-requests 500] [--schedule "*/15 * * * *"] [--json]

Finds the CCS runs still going that no running workflow follows: runs whose runCcsJob was terminated
(temporal workflow terminate runs no workflow code, so nothing aborted them) and runs started from the
CCS console or a script. One jobruns read per job; searches are paged; --max-requests bounds the whole.
  --jobs      these JobIDs          --search   Search Jobs attributes, e.g. "JobName StartsWith Nightly"
  --recent    every job a runCcsJob on this server started within this long
  --policy    report (default; exit 5 when any is found), adopt (runCcsJob follows it, workflow id
              ccs-adopt-<JobRunID>: never adopted twice), abort (aborted at CCS and confirmed)
  --schedule  create the Temporal schedule ccs-reconcile-<NAME> that runs this reconcile on the cron
Examples:
  ccs-jobs reconcile --recent 7d
  ccs-jobs reconcile --ccs emea --search "JobName StartsWith Nightly" --policy adopt
  ccs-jobs reconcile --recent 2d --policy abort --schedule "*/15 * * * *"`,
  maintenance: `ccs-jobs maintenance start --ccs NAME [--until 2h|2026-12-01T06:00:00Z] [--reason TEXT]
ccs-jobs maintenance end --ccs NAME [--reason TEXT] [--json]
ccs-jobs maintenance list [--json]

A CCS server's maintenance window (workflow ccs-maintenance-<NAME>): every run on that server is
paused (no CCS request, never aborted: CcsPaused = 'maintenance'), runs that start during it hold
before executing (so schedules and pipelines start nothing there), and when it ends (end, or --until)
they resume by themselves. Runs paused by a person stay paused. Survives worker restarts. Runs on
other servers are not touched.
Examples:
  ccs-jobs maintenance start --ccs emea --until 3h --reason "CCS 12.7 patch CHG0012345"
  ccs-jobs maintenance list
  ccs-jobs maintenance end --ccs emea`,
  resume: `ccs-jobs resume <workflowId> [--reason TEXT]

Sends the resume signal: polling (and, for a pipeline, its next jobs) goes on; a held deadline is
moved by the time spent paused.
Examples:
  ccs-jobs resume ccs-job-0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16`,
  list: `ccs-jobs list [--status Executing] [--job <JobID>] [--attention] [--all] [--json]

Lists running job workflows (all, with --all) from Temporal's visibility store, with the error type
of any run that needs attention (still followed, but CCS refuses to show it: credentials, 403, TLS...).
  --attention   only runs that need attention (CcsAttention IS NOT NULL)
Examples:
  ccs-jobs list --attention
  ccs-jobs list --status Executing
  ccs-jobs list --job 0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16 --all`,
  pipeline: `ccs-jobs pipeline validate <file>
ccs-jobs pipeline run <file> [--wait] [--id <workflowId>] [--json]

A pipeline file (YAML or JSON):
  name: nightly scan
  timeout: 8h
  stages:
    - name: collect
      jobs: [0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16]
    - name: evaluate
      continueOnFailure: false
      jobs:
        - 24f58e54-5d94-45f8-97a8-ccb6d959233a
        - { jobId: a282d163-2248-4904-8135-0eaf08be8e55, timeout: 2h, pollInterval: 1m }
        - { name: "Reporting - monthly compliance" }
Stages run in order; the jobs of a stage run in parallel. A failed job stops the pipeline and
aborts its running siblings unless the stage says continueOnFailure. A job given by name is resolved
once when the pipeline starts: exactly one CCS job of that name, else the pipeline fails before any
stage, listing the candidates.
Examples:
  ccs-jobs pipeline validate scans/nightly.yaml
  ccs-jobs pipeline run scans/nightly.yaml --wait`,
  schedule: `ccs-jobs schedule create <name> --cron "<expr>" (--job <JobID> | --pipeline <file>)
                     [--timezone Europe/Paris] [--overlap skip|buffer-one|allow] [--catchup-window 1h]
                     [--poll 30s] [--timeout 8h]
ccs-jobs schedule list | describe <name> [--json] | pause <name> [--note TEXT] | unpause <name> | trigger <name> | delete <name>
  (trigger follows the schedule's overlap policy: with the default skip, a trigger while its run goes is skipped)

Temporal Schedules underneath. The default overlap policy is skip: a scan never overlaps itself.
Examples:
  ccs-jobs schedule create nightly-cer --cron "0 2 * * *" --timezone Europe/Paris --job 0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16
  ccs-jobs schedule create weekly-scan --cron "0 3 * * SUN" --pipeline scans/weekly.yaml
  ccs-jobs schedule trigger nightly-cer`,
  ccs: `ccs-jobs ccs check [--ccs <server>] [--job <JobID> | --name <JobName>] [--json]
ccs-jobs ccs inspect <https://host:12431> [--ca <PEM file>] [--pem] [--json]

check: a read-only diagnosis of a configured CCS server (the worker's CCS_* or CCS_SERVERS_FILE):
its certificate and whether it is trusted, one token grant (one only: a refused password counts
toward the account's lockout), how it writes a job and its latest runs (wrapped or flat, dates,
status, GUIDs, message fields), and what the orchestrator will do with each; when Temporal answers,
whether its namespace has every search attribute the worker sets (not answering is only a note).
Exit 0 when a run could be orchestrated; 2 naming the first blocker. It never executes or aborts anything.
inspect: the certificate chain a server presents, and the setting that trusts it
(CCS_TLS_PIN_SHA256, or CCS_TLS_SERVERNAME with CCS_CA_FILE). Sends nothing but a TLS handshake.
Examples:
  ccs-jobs ccs inspect https://ccs-app01.corp.example:12431
  ccs-jobs ccs check --job 0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16
  ccs-jobs ccs check --ccs emea --name "Nightly CER" --json`,
  worker: `ccs-jobs worker

Runs a worker configured from the environment (see .env.example): CCS_BASE_URL, CCS_USERNAME,
CCS_PASSWORD or CCS_PASSWORD_FILE, CCS_CA_FILE, CCS_TLS_INSECURE, TEMPORAL_* and TEMPORAL_TASK_QUEUE.
SIGINT/SIGTERM stop polling and let running activities finish; a stopping worker never aborts a CCS run.
Example:
  CCS_BASE_URL=https://ccs-app01:12431/ccs/api/v1 CCS_USERNAME='CORP\\svc-ccs' CCS_PASSWORD_FILE=/run/secrets/ccs \\
  CCS_CA_FILE=/etc/ccs/ca.pem TEMPORAL_ADDRESS=temporal:7233 ccs-jobs worker`,
};
