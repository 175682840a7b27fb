import { checkIntegrity, type IntegrityReport } from '../../shared/lifecycle/integrity';
import type { CommandContext } from './context';

/** The integrity checks found something (exit 1, after the report is printed). */
export class IntegrityFailedError extends Error {
  override name = 'IntegrityFailedError';
}

/**
 * `precog db check`: the restore test's integrity checks (shared/lifecycle/integrity.ts) on the
 * database of DATABASE_URL (or the deployed secret): one current row per key in every versioned
 * table, the paper accounts' cash against their fills and settlements, and the append-only
 * tables' row counts (printed; compared with the counts of a JSON file given with --baseline).
 */
export async function dbCheck(ctx: CommandContext, options: { json?: boolean; baseline?: Record<string, number> }): Promise<IntegrityReport> {
  const report = await checkIntegrity(ctx.pool, { baselineCounts: options.baseline });
  if (options.json) {
    ctx.out(JSON.stringify(report));
  } else {
    for (const c of report.checked) ctx.out(`  ${c.check.padEnd(17)} ${c.table.padEnd(24)} ${c.examined}`);
    if (report.ok) ctx.out('integrity: ok');
    for (const v of report.violations) ctx.out(`VIOLATION ${v.check} ${v.table}: ${v.message}`);
  }
  if (!report.ok) throw new IntegrityFailedError(`integrity check failed: ${report.violations.length} violation(s)`);
  return report;
}
