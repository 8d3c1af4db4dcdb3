/**
 * The CLI's specs against its parser, its help and the README: every flag a command declares
 * parses and is documented, every flag its usage and examples show is declared, a flag of another
 * command is refused naming it, and README's CLI section lists exactly the usage lines of --help.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands';
import { commandHelp, overviewHelp } from '../../src/cli/help';
import { main } from '../../src/cli/main';
import { scheduleSpec } from '../../src/cli/schedules';
import { pipelineProblems } from '../../src/domain/pipeline';
import { GLOBAL_FLAGS, allFlags, flagsOf, parseCommandLine, type CommandSpec } from '../../src/cli/spec';

/** Splits a command line as a POSIX shell would for the quoting the examples use ("..." and '...'). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) words.push(m[1] ?? m[2] ?? m[3]!);
  return words;
}

/** The argv of an example: what follows its last `ccs-jobs ` (environment prefixes and line continuations dropped). */
function exampleArgv(example: string): string[] {
  const joined = example.replace(/\\\n\s*/g, ' ');
  return shellWords(joined.slice(joined.lastIndexOf('ccs-jobs ') + 'ccs-jobs '.length));
}

/** The flags a usage line shows, each with the verb it is shown for (`schedule list | pause <name> [--note TEXT]`). */
function usageFlags(c: CommandSpec, line: string): { verb: string | undefined; flag: string }[] {
  const tokens = line.split(/\s+/).slice(2); // after "ccs-jobs <name>"
  let verb: string | undefined;
  const found: { verb: string | undefined; flag: string }[] = [];
  tokens.forEach((t, i) => {
    if (c.verbs?.includes(t) && (i === 0 || tokens[i - 1] === '|')) verb = t;
    for (const m of t.matchAll(/--([a-z][a-z-]*)/g)) found.push({ verb, flag: m[1]! });
  });
  return found;
}

function verbsOf(c: CommandSpec): (string | undefined)[] {
  return c.verbs ? [...c.verbs] : [undefined];
}

describe('ccs-jobs command specs', () => {
  it('one meaning per flag name across commands, and no command declares a flag twice or shadows a global one', () => {
    expect(() => allFlags(COMMANDS)).not.toThrow();
    for (const c of COMMANDS) {
      const names = c.flags.map((f) => f.name);
      expect(new Set(names).size, c.name).toBe(names.length);
      for (const g of GLOBAL_FLAGS) expect(names, c.name).not.toContain(g.name);
      for (const f of c.flags) for (const v of f.verbs ?? []) expect(c.verbs, `${c.name} --${f.name}`).toContain(v);
    }
  });

  it('every declared flag parses for each verb that takes it, with its value', () => {
    let parsed = 0;
    for (const c of COMMANDS) {
      for (const verb of verbsOf(c)) {
        for (const f of flagsOf(c, verb)) {
          const argv = [c.name, ...(verb ? [verb] : []), `--${f.name}`, ...(f.type === 'string' ? ['some value'] : [])];
          const { command, flags } = parseCommandLine(argv, COMMANDS);
          expect(command?.name, argv.join(' ')).toBe(c.name);
          if (f.type === 'boolean') expect(flags.boolean(f.name), argv.join(' ')).toBe(true);
          else if (f.multiple) expect(flags.list(f.name), argv.join(' ')).toEqual(['some value']);
          else expect(flags.string(f.name), argv.join(' ')).toBe('some value');
          parsed++;
        }
      }
    }
    expect(parsed).toBeGreaterThan(100);
  });

  it('every declared flag is documented: in a usage line of its command (for its verbs) and in --help with its text', () => {
    for (const c of COMMANDS) {
      const shown = c.usage.flatMap((line) => usageFlags(c, line));
      const help = commandHelp(c);
      for (const f of c.flags) {
        for (const verb of f.verbs ?? [undefined]) {
          expect(
            shown.some((s) => s.flag === f.name && (verb === undefined || s.verb === verb)),
            `ccs-jobs ${c.name}${verb ? ` ${verb}` : ''} --${f.name} in a usage line`,
          ).toBe(true);
        }
        expect(help, `${c.name} --${f.name}`).toContain(f.help);
      }
    }
  });

  it('every flag a usage line shows is declared for the verb it is shown with', () => {
    for (const c of COMMANDS) {
      for (const line of c.usage) {
        expect(line.startsWith(`ccs-jobs ${c.name}`), line).toBe(true);
        for (const { verb, flag } of usageFlags(c, line))
          expect(
            flagsOf(c, verb).map((f) => f.name),
            `${line}: --${flag}`,
          ).toContain(flag);
      }
    }
  });

  it('every example parses as its own command, with no foreign flag', () => {
    for (const c of COMMANDS) {
      expect(c.examples.length, c.name).toBeGreaterThan(0);
      for (const example of c.examples) {
        const argv = exampleArgv(example);
        expect(() => parseCommandLine(argv, COMMANDS), example).not.toThrow();
        expect(parseCommandLine(argv, COMMANDS).command?.name, example).toBe(c.name);
      }
    }
  });

  it("--help is each command's usage, options and examples; the overview names every command", () => {
    const overview = overviewHelp(COMMANDS);
    for (const c of COMMANDS) {
      const help = commandHelp(c);
      expect(help.startsWith(`${c.usage.join('\n')}\n`), c.name).toBe(true);
      expect(help, c.name).toMatch(/\nExamples?:\n/);
      expect(overview).toContain(`  ${c.synopsis} `);
    }
  });

  it("README's CLI section lists exactly the usage lines of --help, in order", () => {
    const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## The `ccs-jobs` CLI'));
    const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    const lines = block
      .trim()
      .split('\n')
      .map((l) => l.replace(/^npx /, '').replace(/\s{2,}# .*$/, ''));
    expect(lines).toEqual(COMMANDS.flatMap((c) => c.usage));
  });

  it('a handler reading a flag its spec does not declare, or as another type, fails loudly', () => {
    const { flags } = parseCommandLine(['cancel', 'x'], COMMANDS);
    expect(() => flags.string('cron')).toThrow(/ccs-jobs cancel reads --cron, which its spec does not declare/);
    expect(() => flags.boolean('reason')).toThrow(/reads --reason as a boolean; its spec declares a string/);
  });

  it('every flag the handlers read (flags.string/boolean/list in src/cli) is declared, with that type, by a command', () => {
    const declared = new Map(allFlags(COMMANDS).map((f) => [f.name, f.type === 'boolean' ? 'boolean' : f.multiple ? 'list' : 'string']));
    const dir = join(__dirname, '../../src/cli');
    let reads = 0;
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      for (const m of readFileSync(join(dir, file), 'utf8').matchAll(/\bflags\.(string|boolean|list)\('([^']+)'\)/g)) {
        expect(declared.get(m[2]!), `${file}: flags.${m[1]}('${m[2]}')`).toBe(m[1]);
        reads++;
      }
    }
    expect(reads).toBeGreaterThan(40);
  });
});

describe('ccs-jobs refuses a flag where it does not belong', () => {
  async function cli(...argv: string[]): Promise<{ code: number; err: string; out: string }> {
    let err = '';
    let out = '';
    // An address nothing listens on: a refusal must come before any connection is tried.
    const code = await main(
      argv,
      { TEMPORAL_ADDRESS: '127.0.0.1:1' },
      { write: (t) => void (out += t), isTTY: false },
      (t) => void (err += t),
    );
    return { code, err, out };
  }

  it.each([
    [
      ['cancel', 'X', '--cron', '* * * * *'],
      /^ccs-jobs: cancel does not take --cron; its options: --reason \(see ccs-jobs cancel --help\)\n$/,
    ],
    [['cancel', 'X', '--cron', '* * * * *', '--html', 'f'], /^ccs-jobs: cancel does not take --cron;/],
    [['schedule', 'pause', 'nightly', '--cron', '0 2 * * *'], /^ccs-jobs: schedule pause does not take --cron; its options: --note /],
    [
      ['evidence', 'show', 'ccs-job-x', '--since', '30d'],
      /^ccs-jobs: evidence show does not take --since; its options: --dir, --json, --public-key, --published-heads /,
    ],
    [['worker', '--json'], /^ccs-jobs: worker does not take --json; it has no options of its own/],
    [['run', '--retries', '3'], /^ccs-jobs: Unknown option '--retries'/],
  ])('%j: one line naming the flag, exit 1', async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(message);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.out).toBe('');
  });

  it("ccs-jobs <command> --help prints that command's help, exit 0; ccs-jobs alone the overview", async () => {
    for (const c of COMMANDS) {
      const r = await cli(c.name, '--help');
      expect(r.code, c.name).toBe(0);
      expect(r.out, c.name).toBe(`${commandHelp(c)}\n`);
    }
    const top = await cli();
    expect(top.code).toBe(0);
    expect(top.out).toBe(`${overviewHelp(COMMANDS)}\n`);
  });
});

describe('missed-scan alerts and notify test on the command line', () => {
  const JOB = '0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16';
  async function cli(...argv: string[]): Promise<{ code: number; err: string; out: string }> {
    let err = '';
    let out = '';
    // Nothing listens there: every refusal below comes before a connection is tried.
    const code = await main(
      argv,
      { TEMPORAL_ADDRESS: '127.0.0.1:1' },
      { write: (t) => void (out += t), isTTY: false },
      (t) => void (err += t),
    );
    return { code, err, out };
  }

  it.each([
    ['26', /--alert-if-no-success must be at least 1m; got "26"/],
    ['30s', /--alert-if-no-success must be at least 1m; got "30s"/],
    ['tomorrow', /--alert-if-no-success must be a duration such as 26h, 90m or 7d; got "tomorrow"/],
    ['', /--alert-if-no-success must be a duration/],
  ])('schedule create --alert-if-no-success %j: one line naming the flag, exit 1', async (value, message) => {
    const r = await cli('schedule', 'create', 'nightly', '--cron', '0 2 * * *', '--job', JOB, '--alert-if-no-success', value);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(message);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });

  it('takes the window from the flag, else from the pipeline file, the flag winning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ccs-alert-'));
    try {
      const file = join(dir, 'p.yaml');
      writeFileSync(file, `name: weekly\nalertIfNoSuccess: 8d\nstages:\n  - name: s\n    jobs: [${JOB}]\n`);
      expect(scheduleSpec('a', { cron: '0 2 * * *', job: JOB, alertIfNoSuccess: '26h' }).alertIfNoSuccess).toBe('26h');
      expect(scheduleSpec('b', { cron: '0 2 * * *', job: JOB }).alertIfNoSuccess).toBeUndefined();
      expect(scheduleSpec('c', { cron: '0 3 * * SUN', pipeline: file }).alertIfNoSuccess).toBe('8d');
      expect(scheduleSpec('d', { cron: '0 3 * * SUN', pipeline: file, alertIfNoSuccess: '2h' }).alertIfNoSuccess).toBe('2h');
      writeFileSync(file, `name: weekly\nalertIfNoSuccess: 10s\nstages:\n  - name: s\n    jobs: [${JOB}]\n`);
      expect(() => scheduleSpec('e', { cron: '0 3 * * SUN', pipeline: file })).toThrow(/alertIfNoSuccess: must be at least 1m; got "10s"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a pipeline definition refuses an alertIfNoSuccess that is not a duration', () => {
    const stages = [{ name: 's', jobs: [JOB] }];
    expect(pipelineProblems({ name: 'p', stages, alertIfNoSuccess: '26h' })).toEqual([]);
    expect(pipelineProblems({ name: 'p', stages, alertIfNoSuccess: 'daily' })).toEqual([
      'alertIfNoSuccess: must be a duration such as "26h" or "7d"; got "daily"',
    ]);
    expect(pipelineProblems({ name: 'p', stages, alertIfNoSuccess: 1_000 })).toEqual(['alertIfNoSuccess: must be at least 1m; got 1000']);
  });

  it('notify test wants --channel; --channel belongs to notify test only', async () => {
    const missing = await cli('notify', 'test');
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/^ccs-jobs: --channel is required/);
    const verb = await cli('notify', 'send', '--channel', 'ops');
    expect(verb.code).toBe(1);
    expect(verb.err).toMatch(/use ccs-jobs notify test --channel <name>/);
    const foreign = await cli('schedule', 'list', '--channel', 'ops');
    expect(foreign.err).toMatch(/^ccs-jobs: schedule list does not take --channel/);
    const alert = await cli('schedule', 'describe', 'x', '--alert-if-no-success', '26h');
    expect(alert.err).toMatch(/^ccs-jobs: schedule describe does not take --alert-if-no-success/);
  });
});
