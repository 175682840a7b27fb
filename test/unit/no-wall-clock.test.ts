import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * One clock (issue 17): shared/ and functions/ read the time and wait only through
 * shared/clock/clock.ts, and SQL reads it only through precog_now(). Anything else would run on
 * the wall clock inside a virtual-clock simulation and make it irreproducible.
 *
 * TypeScript is read with the compiler's parser, so comments never count and SQL patterns are
 * looked for only in string and template text (a JS `clock.now()` is not SQL). Migrations are
 * checked from 0018 on, comments and `-- Down Migration` sections (which restore the earlier state)
 * excluded: 0001-0017 are applied history, and what they created is checked on the migrated
 * catalog instead (test/integration/sql-clock.test.ts).
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FIX = 'use currentClock()/precog_now(): now()/nowMs()/sleep() from shared/clock/clock.ts, machineTimeoutSignal()/machineElapsedMs() for technical timeouts and durations, precog_now() in SQL';

/** Wall-clock reads in SQL text (case-insensitive, word-bounded; precog_now() is not one). */
const SQL_WALL_CLOCK = /(?<![\w.])(now|clock_timestamp|statement_timestamp|transaction_timestamp)\s*\(|(?<![\w.])(current_timestamp|localtimestamp|current_date)(?!\w)/i;

export interface Finding {
  file: string;
  line: number;
  what: string;
}

/** Wall-clock reads in one TypeScript source. */
export function scanTypeScript(file: string, source: string): Finding[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const findings: Finding[] = [];
  const report = (node: ts.Node, what: string) =>
    findings.push({ file, line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1, what });
  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression)) {
      const target = `${node.expression.text}.${node.name.text}`;
      if (target === 'Date.now' || target === 'performance.now') report(node, target);
    }
    if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'Date' && (node.arguments?.length ?? 0) === 0) {
      report(node, 'new Date()');
    }
    if (ts.isIdentifier(node) && (node.text === 'setTimeout' || node.text === 'setInterval')) report(node, node.text);
    if (ts.isStringLiteralLike(node) || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) {
      const match = SQL_WALL_CLOCK.exec(node.text);
      if (match) report(node, `SQL ${match[0].replace(/\s+/g, '')}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return findings;
}

/** Wall-clock reads in one migration's Up part, comments and the precog_now() definition excluded. */
export function scanMigration(file: string, sql: string): Finding[] {
  const blank = (text: string) => text.replace(/[^\n]/g, ' '); // keeps line numbers
  const up = sql.split(/^--\s*Down Migration\b/im)[0]!;
  const code = up
    .replace(/CREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION\s+precog_now\s*\(\s*\)[\s\S]*?\$\$[\s\S]*?\$\$\s*;/gi, blank)
    .replace(/\/\*[\s\S]*?\*\//g, blank)
    .replace(/--[^\n]*/g, blank);
  const findings: Finding[] = [];
  code.split('\n').forEach((text, i) => {
    const match = SQL_WALL_CLOCK.exec(text);
    if (match) findings.push({ file, line: i + 1, what: `SQL ${match[0].replace(/\s+/g, '')}` });
  });
  return findings;
}

function typeScriptFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(dir, f).split(path.sep).join('/'))
    .filter((f) => !f.startsWith('shared/clock/')) // the clock itself wraps the wall clock
    .sort();
}

/** Migrations that are not applied history: 0018 (precog_now) and later. */
function clockedMigrations(): string[] {
  return readdirSync(path.join(ROOT, 'migrations'))
    .filter((f) => /^\d{4}_.*\.sql$/.test(f) && Number(f.slice(0, 4)) >= 18)
    .sort()
    .map((f) => `migrations/${f}`);
}

const describeFindings = (findings: Finding[]) => findings.map((f) => `${f.file}:${f.line}: ${f.what}: ${FIX}`);

describe('no wall clock outside shared/clock/', () => {
  it('shared/ and functions/ read the time and wait only through the clock module', () => {
    const files = [...typeScriptFiles('shared'), ...typeScriptFiles('functions')];
    expect(files.length).toBeGreaterThan(50); // the scan does see the code
    const findings = files.flatMap((f) => scanTypeScript(f, readFileSync(path.join(ROOT, f), 'utf8')));
    expect(describeFindings(findings)).toEqual([]);
  });

  it('migrations from 0018 on read the time only through precog_now()', () => {
    const files = clockedMigrations();
    expect(files).toContain('migrations/0018_precog-now.sql');
    const findings = files.flatMap((f) => scanMigration(f, readFileSync(path.join(ROOT, f), 'utf8')));
    expect(describeFindings(findings)).toEqual([]);
  });
});

describe('the scan itself', () => {
  it.each([
    ['const t = Date.now();', 'Date.now'],
    ['const f = Date.now;', 'Date.now'],
    ['const d = new Date();', 'new Date()'],
    ['const d = new Date;', 'new Date()'],
    ['await new Promise((r) => setTimeout(r, 10));', 'setTimeout'],
    ['const h = setInterval(tick, 1000);', 'setInterval'],
    ['const t0 = performance.now();', 'performance.now'],
    ["await db.query('UPDATE orders SET enqueued_at = now() WHERE id = $1');", 'SQL now('],
    ['await db.query(`SELECT ${x} FROM t WHERE at < NOW () - interval \'1 day\'`);', 'SQL NOW('],
    ["const sql = 'SELECT CURRENT_TIMESTAMP';", 'SQL CURRENT_TIMESTAMP'],
    ["const sql = 'SELECT clock_timestamp()';", 'SQL clock_timestamp('],
    ["const sql = 'SELECT statement_timestamp(), 1';", 'SQL statement_timestamp('],
    ["const sql = 'SELECT transaction_timestamp()';", 'SQL transaction_timestamp('],
    ["const sql = 'SELECT localtimestamp';", 'SQL localtimestamp'],
    ["const sql = 'WHERE d = current_date';", 'SQL current_date'],
  ])('finds %s', (source, what) => {
    expect(scanTypeScript('x.ts', `// line 1\n${source}`)).toEqual([{ file: 'x.ts', line: 2, what }]);
  });

  it.each([
    "await db.query('UPDATE orders SET enqueued_at = precog_now() WHERE id = $1');",
    'const d = new Date(ms);',
    'const t = clock.now(); const u = now(); const v = deps.now();',
    '// Date.now() and setTimeout in a comment',
    '/* new Date() */ const x = 1;',
    "const name = 'nowhere'; const col = 'snow_depth';",
    'const t = nowMs();',
  ])('passes %s', (source) => {
    expect(scanTypeScript('x.ts', source)).toEqual([]);
  });

  it('checks a migration\'s Up part, not its comments, its Down part or the precog_now() definition', () => {
    const sql = [
      '-- Up Migration',
      '-- defaults used to read now()',
      "CREATE OR REPLACE FUNCTION precog_now() RETURNS timestamptz LANGUAGE sql STABLE AS $$ SELECT coalesce(NULLIF(current_setting('precog.now', true), '')::timestamptz, now()) $$;",
      'ALTER TABLE a ALTER COLUMN t SET DEFAULT precog_now();',
      'ALTER TABLE b ALTER COLUMN t SET DEFAULT now();',
      '/* CURRENT_TIMESTAMP */',
      '-- Down Migration',
      'ALTER TABLE a ALTER COLUMN t SET DEFAULT now();',
    ].join('\n');
    expect(scanMigration('m.sql', sql)).toEqual([{ file: 'm.sql', line: 5, what: 'SQL now(' }]);
  });
});
