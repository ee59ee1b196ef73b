import { describe, expect, it } from 'vitest';
import { HELP_TEXT, parseMigrateText } from '../../bot/command-text.js';

describe('parseMigrateText', () => {
  it('empty text points to App Home; "help" gives help without a problem (issue 16)', () => {
    expect(parseMigrateText('')).toEqual({ kind: 'home' });
    expect(parseMigrateText('   ')).toEqual({ kind: 'home' });
    expect(parseMigrateText('help')).toEqual({ kind: 'help', problem: null });
  });

  it('start takes one runbook name', () => {
    expect(parseMigrateText('start kgv')).toEqual({ kind: 'start', runbook: 'kgv', dryRun: false });
  });

  it('start --dry-run is a rehearsal, before or after the name', () => {
    expect(parseMigrateText('start kgv --dry-run')).toEqual({ kind: 'start', runbook: 'kgv', dryRun: true });
    expect(parseMigrateText('start --dry-run erp-2024')).toEqual({ kind: 'start', runbook: 'erp-2024', dryRun: true });
  });

  it('subcommands are case-insensitive and extra spaces are ignored', () => {
    expect(parseMigrateText('  START   kgv  ')).toEqual({ kind: 'start', runbook: 'kgv', dryRun: false });
    expect(parseMigrateText('Status')).toEqual({ kind: 'status', target: null });
  });

  it('start without a name, with two names, or with a path is help with the problem', () => {
    for (const text of ['start', 'start --dry-run', 'start kgv erp', 'start ../etc/passwd']) {
      expect(parseMigrateText(text), text).toEqual({ kind: 'help', problem: '`start` needs exactly one runbook name, e.g. `/migrate start kgv`.' });
    }
  });

  it('status takes an optional run', () => {
    expect(parseMigrateText('status')).toEqual({ kind: 'status', target: null });
    expect(parseMigrateText('status run-42')).toEqual({ kind: 'status', target: 'run-42' });
  });

  it('pause, abort and resume pass on their words (an optional run or runbook, then the reason) for the handler', () => {
    expect(parseMigrateText('pause waiting for the network team')).toEqual({ kind: 'pause', words: ['waiting', 'for', 'the', 'network', 'team'] });
    expect(parseMigrateText('pause')).toEqual({ kind: 'pause', words: [] });
    expect(parseMigrateText('abort kgv source   unreachable')).toEqual({ kind: 'abort', words: ['kgv', 'source', 'unreachable'] });
    expect(parseMigrateText('ABORT now')).toEqual({ kind: 'abort', words: ['now'] });
    expect(parseMigrateText('resume')).toEqual({ kind: 'resume', words: [] });
    expect(parseMigrateText('resume run-42')).toEqual({ kind: 'resume', words: ['run-42'] });
  });

  it('rollback takes an optional scenario and reason (resolved against the run\'s runbook)', () => {
    expect(parseMigrateText('rollback')).toEqual({ kind: 'rollback', words: [] });
    expect(parseMigrateText('rollback post-go-live counts differ')).toEqual({ kind: 'rollback', words: ['post-go-live', 'counts', 'differ'] });
  });

  it('runbooks lists the runbooks', () => {
    expect(parseMigrateText('runbooks')).toEqual({ kind: 'runbooks' });
  });

  it.each(['hold', 'reject', 'skip'] as const)('%s takes a step id and a reason', (kind) => {
    expect(parseMigrateText(`${kind} load-antrag waiting for the DBA`)).toEqual({ kind, stepId: 'load-antrag', reason: 'waiting for the DBA' });
  });

  it.each(['skip', 'override'] as const)('%s (destructive) without a step or a reason is refused with the usage alone (issue 13)', (kind) => {
    for (const text of [kind, `${kind} load-antrag`, `${kind} load-antrag   `, `${kind} load-antrag no reason given`]) {
      const parsed = parseMigrateText(text);
      expect(parsed.kind).toBe('refused');
      expect(parsed.kind === 'refused' ? parsed.problem : '').toContain(`Usage: \`/migrate ${kind} <step> <reason>\``);
    }
    expect(parseMigrateText(`${kind} load-antrag x`).kind).toBe(kind);
    expect(parseMigrateText(`${kind} load-antrag ${'x'.repeat(501)}`)).toMatchObject({ kind: 'refused', problem: expect.stringContaining('keep it under 500') });
  });

  it.each(['hold', 'reject'] as const)('%s without a step or without a reason is help saying what is missing', (kind) => {
    expect(parseMigrateText(kind)).toEqual({
      kind: 'help',
      problem: `\`${kind}\` needs a step id and a reason, e.g. \`/migrate ${kind} load-antrag waiting for the DBA\`.`,
    });
    expect(parseMigrateText(`${kind} load-antrag`)).toEqual({
      kind: 'help',
      problem: `\`${kind}\` needs a reason after the step id, so the thread says why.`,
    });
  });

  it('an unknown subcommand is help naming it', () => {
    expect(parseMigrateText('deploy kgv')).toEqual({ kind: 'help', problem: "I don't know `deploy`." });
    expect(parseMigrateText('rm -rf /')).toEqual({ kind: 'help', problem: "I don't know `rm`." });
  });
});

describe('HELP_TEXT', () => {
  it('mentions every subcommand of the public contract', () => {
    for (const sub of ['start <runbook> [--dry-run]', 'status', 'pause', 'resume', 'abort', 'rollback', 'runbooks', 'hold', 'reject', 'skip']) {
      expect(HELP_TEXT).toContain(`/migrate ${sub}`);
    }
  });
});
