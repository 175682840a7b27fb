import type { Queryable } from '../shared/db/transaction';
import type { BacktestOutcome, OutcomeDecision } from './outcome';

/**
 * No lookahead, checked two ways.
 *
 * 1. `rowsFromTheFuture`: the replay database holds nothing stamped after the virtual clock. Every
 *    column that records when a row was written or changed (created_at, updated_at, superseded_at,
 *    last_check, matched_at) of every table is compared with `now`. (Columns that state a
 *    schedule, like a market's close_time or a game's start_time, are known in advance and not
 *    checked.) The engine's test hook runs it after every tape instant.
 * 2. `lookaheadAnalysis` (like freqtrade's lookahead-analysis): for every instant at which the full
 *    replay decided an entry, the replay is run again on the source cut just after that instant;
 *    the decisions of that instant must be the same. A strategy or model that used anything from
 *    after its decision time (a side channel to the tape, a result it should not know) decides
 *    differently when that future is not there, and is named.
 */

const RECORD_TIME_COLUMNS = ['created_at', 'updated_at', 'superseded_at', 'last_check', 'matched_at'];

export async function rowsFromTheFuture(db: Queryable, now: Date): Promise<string[]> {
  const { rows: columns } = await db.query(
    `SELECT c.table_name, c.column_name FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
      WHERE c.table_schema = current_schema() AND c.column_name = ANY($1::text[]) AND c.data_type LIKE 'timestamp%'
        AND c.table_name <> 'pgmigrations'
      ORDER BY 1, 2`,
    [RECORD_TIME_COLUMNS],
  );
  if (columns.length === 0) return [];
  const { rows } = await db.query(
    columns.map((c, i) => `SELECT '${c.table_name}.${c.column_name}' AS col, max("${c.column_name}") AS latest FROM "${c.table_name}" HAVING max("${c.column_name}") > $1${i === 0 ? '' : ''}`).join(' UNION ALL '),
    [now.toISOString()],
  );
  return rows.map((r) => `${r.col} holds ${(r.latest as Date).toISOString()}, after the virtual clock ${now.toISOString()}`);
}

export interface LookaheadFinding {
  at: string;
  decision: OutcomeDecision;
  message: string;
}

const keyOf = (d: OutcomeDecision) => JSON.stringify([d.market, d.side, d.action, d.count, d.limitPrice, d.strategy, d.model, d.purpose]);
export const describeDecision = (d: OutcomeDecision) =>
  `${d.strategy} ${d.action} ${d.side.toUpperCase()} ${d.market} ×${d.count}${d.limitPrice ? ` @ ${d.limitPrice}` : ''} (model ${d.model ?? 'none'})`;

/**
 * Re-runs the replay cut just after each entry decision's instant (`replayUntil(t)` runs the same
 * versions and seed on the source's window [from, t)) and compares that instant's decisions.
 */
export async function lookaheadAnalysis(
  full: BacktestOutcome,
  replayUntil: (to: Date) => Promise<BacktestOutcome>,
): Promise<{ checked: string[]; findings: LookaheadFinding[] }> {
  const instants = [...new Set(full.decisions.filter((d) => d.purpose === 'entry').map((d) => d.at))].sort();
  const findings: LookaheadFinding[] = [];
  for (const at of instants) {
    const cut = await replayUntil(new Date(Date.parse(at) + 1));
    const truncated = new Set(cut.decisions.filter((d) => d.at === at && d.purpose === 'entry').map(keyOf));
    const fullAt = full.decisions.filter((d) => d.at === at && d.purpose === 'entry');
    const fullKeys = new Set(fullAt.map(keyOf));
    for (const d of fullAt) {
      if (truncated.has(keyOf(d))) continue;
      findings.push({
        at, decision: d,
        message: `lookahead: the decision at ${at} to ${describeDecision(d)} is not taken when the replay is cut just after ${at}: ` +
          'it depended on data from after its own time (a strategy or model reading the future)',
      });
    }
    for (const d of cut.decisions.filter((x) => x.at === at && x.purpose === 'entry' && !fullKeys.has(keyOf(x)))) {
      findings.push({
        at, decision: d,
        message: `lookahead: cut just after ${at} the replay decides to ${describeDecision(d)}, which the full replay did not: ` +
          'the full replay\'s decision at that instant depended on data from after it',
      });
    }
  }
  return { checked: instants, findings };
}
