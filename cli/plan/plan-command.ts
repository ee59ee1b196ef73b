import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import { redactUrl } from '../../engine/connections.js';
import { formatDuration, parseDuration } from '../../runbook/duration.js';
import { CutoverError } from '../../runbook/errors.js';
import { loadRunbook } from '../../runbook/load.js';
import { COMMON_OPTIONS, durationArg, listArg, parseCommandArgs, usageError } from '../args.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { Output, shownPath, type CliIo } from '../output.js';
import { conversionMarkdown } from './conversion-markdown.js';
import { inventory, isSourceUrl, type Inventory } from './inventory.js';
import { ratesFor } from './rates.js';
import { buildRunbook, type PlannedRunbook } from './runbook-builder.js';
import { bytesText } from './sizes-text.js';
import { renderRunbook } from './runbook-yaml.js';
import { targetFacts, type TargetFacts } from './target-facts.js';

export const PLAN_USAGE = `Usage: cutover plan --source <mssql url | snapshot dir> --target <postgres url> [options]

Writes a runbook with seed 000's phases for the source's tables (checks, backups,
freeze, schema, the load in groups, keys, counts, checksums, integrity, totals,
rules, the gated sign-off, the switch, the go-live backup) and the three rollback
scenarios, with planned durations; and the conversion report beside it. What only
a person knows is left as a FILL IN placeholder: the runbook does not start until
each is replaced (cutover lint lists them).

Options:
  --source <url|dir>   SQL Server (mssql://user:pass@host:1433/db?encrypt=true) or an extract snapshot directory
  --target <url>       the PostgreSQL to migrate into (postgres://…): asked for earlier loads' rows/s
  --tables <a,b,…>     only these source tables (Antrag or dbo.Antrag; repeatable)
  --window <duration>  the maintenance window, e.g. 4h: says whether the plan fits
  --load-step <duration>  about how long one load step should take (default 30m): sizes the table groups
  --name <id>          the runbook's id (default: the source database's name)
  --schema <name>      the target schema (SQL Server source; default public)
  --out <file>         where to write it (default config/runbooks/<name>.yaml)
  --force              overwrite existing files
  -q, --quiet          only the paths written
  -h, --help           this text

Exit: 0 written (and fits the window), 1 written but does not fit the window,
2 wrong arguments, 3 could not plan (source or snapshot unreadable, files exist).`;

export async function planCommand(args: string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs(args, {
    ...COMMON_OPTIONS,
    source: { type: 'string' },
    target: { type: 'string' },
    tables: { type: 'string', multiple: true },
    window: { type: 'string' },
    'load-step': { type: 'string' },
    name: { type: 'string' },
    schema: { type: 'string' },
    out: { type: 'string' },
    force: { type: 'boolean' },
  });
  const out = new Output(io, values.quiet === true);
  if (values.help) {
    out.result(PLAN_USAGE);
    return EXIT.ok;
  }
  if (positionals.length > 0) throw usageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  if (!values.source) throw usageError('--source is required: a SQL Server URL or a snapshot directory');
  if (!values.target) throw usageError('--target is required: the PostgreSQL URL to migrate into');
  if (!/^postgres(ql)?:\/\//i.test(values.target)) throw usageError(`--target expects a postgres:// URL, got ${redactUrl(values.target)}`);
  const windowSeconds = values.window === undefined ? null : durationArg('window', values.window, parseDuration);
  const groupSeconds = values['load-step'] === undefined ? undefined : durationArg('load-step', values['load-step'], parseDuration);
  if (values.schema !== undefined && !/^[A-Za-z_][A-Za-z0-9_$]*$/.test(values.schema)) throw usageError(`--schema expects a plain identifier, got ${JSON.stringify(values.schema)}`);
  if (values.name !== undefined && !/^[a-z0-9][a-z0-9_-]*$/.test(values.name)) throw usageError(`--name expects lower-case letters, digits, "-" or "_", got ${JSON.stringify(values.name)}`);

  out.note(`Reading ${isSourceUrl(values.source) ? redactUrl(values.source) : `the snapshot in ${values.source}`}…`);
  const controller = new AbortController();
  const inv = await inventory(values.source, io.cwd, { tables: listArg(values.tables), targetSchema: values.schema ?? null, signal: controller.signal });
  const name = values.name ?? slug(inv.database);
  const runbookFile = resolve(io.cwd, values.out ?? `config/runbooks/${name}.yaml`);
  const reportFile = `${runbookFile.slice(0, runbookFile.length - extname(runbookFile).length)}.conversion.md`;
  if (!values.force) await refuseExisting([runbookFile, reportFile], io.cwd);

  out.note(`Asking the target ${redactUrl(values.target)} for earlier loads…`);
  const target = await targetFacts(values.target);
  if (target.unreachable) out.note(out.paint.yellow(`The target did not answer (${target.unreachable}): default rates, and a backup before the migration is planned in case it holds tables.`));
  const envPrefix = name.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
  const planned = buildRunbook({ name, envPrefix, inventory: inv, target, rates: ratesFor(target.measured), windowSeconds, reportFile: basename(reportFile), ...(groupSeconds ? { groupSeconds } : {}) });
  const header = headerOf({ name, envPrefix, inv, target, planned, windowSeconds, runbookFile: shownPath(io.cwd, runbookFile), reportFile: basename(reportFile), targetUrl: values.target });
  const text = renderRunbook(planned.doc, header);
  const placeholders = placeholdersLeft(text, runbookFile, envPrefix);
  const groupOf = (t: (typeof inv.tables)[number]) => planned.groups.findIndex((g) => g.includes(t)) + 1;
  await writeAtomic(runbookFile, text);
  await writeAtomic(reportFile, conversionMarkdown(inv.report, { database: inv.database, runbookFile: basename(runbookFile), tables: inv.tables, groupOf }));

  out.result(shownPath(io.cwd, runbookFile));
  out.result(shownPath(io.cwd, reportFile));
  for (const line of summary(inv, planned, windowSeconds, placeholders)) out.note(line);
  if (planned.fits === false) {
    out.note(out.paint.red(`Does NOT fit the ${formatDuration(windowSeconds ?? 0)} window: ${formatDuration(planned.forwardSeconds + planned.rollbackSeconds)} with the longest rollback.`));
    return EXIT.findings;
  }
  return EXIT.ok;
}

/** A database name as a runbook id: `KGV_Prod` → `kgv-prod`. */
const slug = (text: string): string => text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'cutover';

async function refuseExisting(files: string[], cwd: string): Promise<void> {
  const existing: string[] = [];
  for (const file of files) if (await stat(file).then(() => true, () => false)) existing.push(shownPath(cwd, file));
  if (existing.length > 0) throw new CutoverError('plan.exists', `${existing.join(' and ')} already exist${existing.length === 1 ? 's' : ''}; nothing was written (--force overwrites, --out writes elsewhere)`);
}

/** Written next to the file and renamed over it: an interrupted plan leaves the old file or the new one, never half of one. */
async function writeAtomic(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const partial = `${file}.partial-${randomUUID().slice(0, 8)}`;
  try {
    await writeFile(partial, text, 'utf8');
    await rename(partial, file);
  } finally {
    await rm(partial, { force: true });
  }
}

/**
 * The plan must only lack what a person fills in: loaded with its variables
 * set, every problem is a placeholder. Anything else is a bug here, reported
 * rather than written.
 */
function placeholdersLeft(text: string, file: string, envPrefix: string): number {
  // The variables without a default, as an installation sets them; the others keep their defaults.
  const env = {
    [`${envPrefix}_TARGET_URL`]: 'postgres://planner@localhost/db',
    [`${envPrefix}_SOURCE_URL`]: 'mssql://planner@localhost/db',
    [`${envPrefix}_MSSQL_BACKUP_DIR`]: 'D:\\Backups',
  };
  const loaded = loadRunbook({ name: basename(file, extname(file)), file, text, env });
  if (loaded.ok) return 0;
  const other = loaded.problems.filter((p) => !p.message.startsWith('placeholder not filled in'));
  if (other.length > 0) {
    throw new CutoverError('plan.invalid_runbook', `the planned runbook would not load (a bug in cutover plan; nothing was written): ${other.slice(0, 3).map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  }
  return loaded.problems.length;
}

function headerOf(h: { name: string; envPrefix: string; inv: Inventory; target: TargetFacts; planned: PlannedRunbook; windowSeconds: number | null; runbookFile: string; reportFile: string; targetUrl: string }): string {
  const { inv, planned } = h;
  const v = (n: string) => `${h.envPrefix}_${n}`;
  const from = inv.source.kind === 'snapshot' ? `the snapshot in ${inv.source.dir} (database ${inv.database}, written ${inv.source.createdAt})` : `SQL Server ${redactUrl(inv.source.url)} (database ${inv.database})`;
  const env = [
    [v('TARGET_URL'), `the PostgreSQL to migrate into (planned against ${redactUrl(h.targetUrl)})`],
    ...(inv.source.kind === 'mssql' ? [[v('SOURCE_URL'), 'the SQL Server (mssql://…)'], [v('MSSQL_BACKUP_DIR'), 'a directory on the SQL Server host for its backup']] : [[v('SNAPSHOT_DIR'), `the snapshot (default ${inv.source.dir})`]]),
    [v('BACKUP_DIR'), 'pg_dump files and rollback exports on the worker (default var/backups)'],
    [`${v('WINDOW_START')}, ${v('WINDOW_END')}`, 'the maintenance window (ISO times with offset), for the go-live forecast'],
  ];
  const width = Math.max(...env.map(([k]) => (k ?? '').length));
  return [
    `${h.name}: planned by \`cutover plan\` from ${from}.`,
    'Review it, replace every FILL IN (a person must decide those; the runbook does not start until then),',
    `and check it with \`npx cutover lint ${h.runbookFile}\`; then rehearse it: \`npx cutover rehearse ${h.runbookFile}\`.`,
    '',
    'Environment (no URL or password is written here):',
    ...env.map(([k, d]) => `  ${(k ?? '').padEnd(width)}  ${d}`),
    '',
    ...timings(inv, planned, h.windowSeconds),
    `Conversion report (what needs hands): ${h.reportFile}.`,
    ...inv.notes.map((n) => `Note: ${n}.`),
  ].join('\n');
}

function timings(inv: Inventory, planned: PlannedRunbook, windowSeconds: number | null): string[] {
  const total = planned.forwardSeconds + planned.rollbackSeconds;
  const fit =
    windowSeconds === null
      ? 'no window given (--window)'
      : planned.fits
        ? `fits the ${formatDuration(windowSeconds)} window with ${formatDuration(windowSeconds - total)} to spare`
        : `does NOT fit the ${formatDuration(windowSeconds)} window (${formatDuration(total - windowSeconds)} over)`;
  const rows = inv.tables.reduce((n, t) => n + t.rows, 0);
  return [
    `${inv.tables.length} tables, ${rows.toLocaleString('en-US')} rows, ${bytesText(inv.tables)}${inv.source.kind === 'snapshot' ? ' compressed' : ''}, in ${planned.groups.length} load group${planned.groups.length === 1 ? '' : 's'}.`,
    `Planned: ${formatDuration(planned.forwardSeconds)} to go-live, ${formatDuration(planned.rollbackSeconds)} for the longest rollback: ${formatDuration(total)}; ${fit}.`,
  ];
}

function summary(inv: Inventory, planned: PlannedRunbook, windowSeconds: number | null, placeholders: number): string[] {
  return [
    ...timings(inv, planned, windowSeconds),
    `${placeholders} FILL IN placeholder${placeholders === 1 ? '' : 's'} to replace before it can start (cutover lint lists them).`,
    ...inv.notes.map((n) => `Note: ${n}.`),
  ];
}
