import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, wantsJson } from '../../cli/precog';
import { runPrecog } from '../helpers/cli';

/**
 * `precog --help` and every command's help, usage errors and --json, in-process through runPrecog.
 * No database: DATABASE_URL points at a closed port, so a command that did reach for the database
 * fails at once (the last tests rely on that to see the JSON failure path).
 */

const NO_DATABASE = 'postgres://nobody@127.0.0.1:1/no_database';
const precog = (...args: string[]) => runPrecog(NO_DATABASE, args);

interface Node {
  /** Words after `precog` ([] for the program itself). */
  path: string[];
  command: Command;
}

function walk(command: Command, path: string[] = []): Node[] {
  return [{ path, command }, ...command.commands.flatMap((c) => walk(c, [...path, c.name()]))];
}

const program = buildProgram({ out: () => {}, err: () => {}, env: {} });
const everything = walk(program);
const commands = everything.filter((n) => n.path.length > 0);
const leaves = commands.filter((n) => n.command.commands.length === 0);
const groups = everything.filter((n) => n.command.commands.length > 0);
const label = (n: Node) => ['precog', ...n.path].join(' ');
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** What a parent's command list shows for a command. */
const listed = (c: Command) => c.summary() || c.description();

describe('precog help', () => {
  it('the program holds every command of the operator CLI', () => {
    expect(leaves.map((n) => n.path.join(' ')).sort()).toEqual([
      'ab', 'archive export', 'archive list', 'archive restore', 'attribution', 'backtest',
      'breaker list', 'breaker resolve', 'breaker trip',
      'config get', 'config keys', 'config list', 'config set', 'config unset',
      'db check',
      'desync list', 'desync resolve',
      'dlq list', 'dlq redrive',
      'edges', 'exits', 'health', 'invoke', 'matrix import', 'migrate',
      'model activate', 'model create', 'model deprecate', 'model list', 'model status', 'model validate',
      'orders', 'pnl', 'positions', 'preflight', 'reconcile',
      'strategy activate', 'strategy create', 'strategy deprecate', 'strategy list', 'strategy show', 'strategy status',
      'tape export', 'tape import', 'tape show',
      'trades',
    ]);
  });

  it('every command, argument and option has a description', () => {
    for (const n of everything) {
      expect(n.command.description(), label(n)).not.toBe('');
      for (const a of n.command.registeredArguments) expect(a.description, `${label(n)} <${a.name()}>`).not.toBe('');
      for (const o of n.command.options) expect(o.description, `${label(n)} ${o.flags}`).not.toBe('');
    }
  });

  it.each(everything.map((n) => [label(n), n] as const))('%s --help: exit 0, usage and description on stdout, 80 columns', async (_, n) => {
    const r = await precog(...n.path, '--help');
    expect(r.code).toBe(EXIT_OK);
    expect(r.err).toBe('');
    expect(r.out).toMatch(new RegExp(`^Usage: ${escape(label(n))} `));
    expect(r.out).toContain(n.command.description().split(' ').slice(0, 4).join(' '));
    for (const line of r.out.split('\n')) expect([...line].length, `${label(n)}: ${line}`).toBeLessThanOrEqual(80);
    if (n.path.length > 0) {
      // The same help through the parent's `help` command.
      const viaHelp = await precog(...n.path.slice(0, -1), 'help', n.path[n.path.length - 1]!);
      expect(viaHelp.code).toBe(EXIT_OK);
      expect(viaHelp.out).toBe(r.out);
    }
  });

  it.each(groups.map((n) => [label(n), n] as const))('%s --help lists every subcommand on one line with its summary', async (_, n) => {
    const { out } = await precog(...n.path, '--help');
    for (const c of n.command.commands) {
      expect(out, c.name()).toMatch(new RegExp(`^ {2}${escape(c.name())}\\b.* {2}${escape(listed(c))}$`, 'm'));
    }
  });

  it('precog --help explains --json, the exit codes and DATABASE_URL', async () => {
    const r = await precog('--help');
    expect(r.code).toBe(EXIT_OK);
    expect(r.out).toMatch(/Exit codes: 0 ok .*; 1 failure .*; 2 usage error/s);
    expect(r.out).toContain('DATABASE_URL');
    expect(r.out).toMatch(/--json: one JSON document on stdout/);
    expect((await precog('help')).code).toBe(EXIT_OK);
  });

  it.each(leaves.map((n) => [label(n), n] as const))('%s takes --json', async (_, n) => {
    const json = n.command.options.find((o) => o.long === '--json');
    expect(json?.description).toMatch(/^print the result as JSON/);
    expect((await precog(...n.path, '--help')).out).toMatch(/^ {2}--json {2,}print the result as JSON/m);
  });

  it.each(everything.map((n) => [label(n), n] as const))('%s --no-such-option: exit 2 naming the option', async (_, n) => {
    const r = await precog(...n.path, '--no-such-option');
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^error: unknown option '--no-such-option'\n\(run with --help for usage\)$/);
  });

  it.each(leaves.map((n) => [label(n), n] as const))('%s --json --no-such-option: the usage error is JSON on stderr', async (_, n) => {
    const r = await precog(...n.path, '--json', '--no-such-option');
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.out).toBe('');
    expect(JSON.parse(r.err)).toEqual({ error: "unknown option '--no-such-option'", code: 'commander.unknownOption' });
  });
});

describe('precog usage errors', () => {
  it('a misspelled required option is named (with a suggestion) before the missing one', async () => {
    const typo = await precog('breaker', 'trip', 'manual', '--resaon', 'x');
    expect(typo.code).toBe(EXIT_USAGE);
    expect(typo.err).toMatch(/unknown option '--resaon'\n\(Did you mean --reason\?\)/);
    const missing = await precog('breaker', 'trip', 'manual');
    expect(missing.code).toBe(EXIT_USAGE);
    expect(missing.err).toMatch(/^error: required option '--reason <text>' not specified/);
    const missingJson = await precog('config', 'set', 'exits.stop_loss_pct', '-0.1', '--json');
    expect(missingJson.code).toBe(EXIT_USAGE);
    expect(JSON.parse(missingJson.err)).toEqual({ error: "required option '--reason <text>' not specified", code: 'commander.missingMandatoryOptionValue' });
    expect((await precog('config', 'set', '--help')).out).toMatch(/--reason <text> +why, kept with the override \(required\)/);
  });

  it('unknown commands, missing subcommands and bad arguments exit 2', async () => {
    const unknown = await precog('frobnicate');
    expect(unknown.code).toBe(EXIT_USAGE);
    expect(unknown.err).toMatch(/unknown command 'frobnicate'/);
    for (const args of [[], ['strategy'], ['config']]) {
      const r = await precog(...args);
      expect(r.code, args.join(' ')).toBe(EXIT_USAGE);
      expect(r.err).toMatch(/^Usage: precog/);
    }
    const badArg = await precog('pnl', '--since', 'yesterday', '--json');
    expect(badArg.code).toBe(EXIT_USAGE);
    expect(JSON.parse(badArg.err)).toMatchObject({ error: expect.stringMatching(/^option '--since <time>' argument 'yesterday' is invalid/), code: 'commander.invalidArgument' });
    const badFunction = await precog('invoke', 'trade-everything', '--json');
    expect(badFunction.code).toBe(EXIT_USAGE);
    expect(JSON.parse(badFunction.err).error).toMatch(/'trade-everything' is invalid.*check-health/);
  });

  it('--json counts only before --', () => {
    expect(wantsJson(['pnl', '--json'])).toBe(true);
    expect(wantsJson(['config', 'set', 'k', '--', '--json'])).toBe(false);
    expect(wantsJson(['pnl'])).toBe(false);
  });
});

describe('precog --json without a database', () => {
  it('config keys --json: one JSON document on stdout', async () => {
    const r = await precog('config', 'keys', '--json');
    expect(r.code).toBe(EXIT_OK);
    expect(r.err).toBe('');
    const keys = JSON.parse(r.out);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys[0]).toMatchObject({ key: expect.any(String), dataType: expect.any(String), envVar: expect.stringMatching(/^PRECOG_RULE__/) });
  });

  it('an unreachable database: exit 1, the error (naming DATABASE_URL) as JSON on stderr with --json, text otherwise', async () => {
    const json = await precog('positions', '--json');
    expect(json.code).toBe(EXIT_FAILURE);
    expect(json.out).toBe('');
    expect(JSON.parse(json.err)).toEqual({ error: expect.stringMatching(/^cannot reach PostgreSQL at 127\.0\.0\.1:1\/no_database \(DATABASE_URL\): connection refused/) });
    const text = await precog('positions');
    expect(text.code).toBe(EXIT_FAILURE);
    expect(text.err).toMatch(/^precog: cannot reach PostgreSQL .*DATABASE_URL/);
  });
});
