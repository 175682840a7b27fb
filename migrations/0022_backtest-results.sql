-- Up Migration
-- Backtest results kept beside paper and live (issue 19). A backtest replays a tape (identified by
-- its tapeId, a sha256 over its manifest's file entries) through the real handlers into a replay
-- database; `storeBacktestResults` copies its report's figures here, into the operational
-- database, in one transaction. Runs and results are history: never updated or deleted (a re-run
-- is a new run). The latest run's ROI and trade count per strategy version also go to
-- strategies.backtest_roi / backtest_trades_count, next to paper_roi and live_roi, so the A/B
-- query patterns show the three side by side. Time defaults use precog_now() (the one clock).
CREATE TABLE backtest_runs (
    backtest_run_id   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tape_id           CHAR(64) NOT NULL CHECK (tape_id ~ '^[0-9a-f]{64}$'),
    tape_label        TEXT NOT NULL,
    window_from       TIMESTAMPTZ NOT NULL,
    window_to         TIMESTAMPTZ NOT NULL,
    -- [{"name": "quarter_live", "version": "v1.1"}, …] as the command line named them.
    strategies        JSONB NOT NULL CHECK (jsonb_typeof(strategies) = 'array'),
    model_name        VARCHAR,
    model_version     VARCHAR,
    fill_model        JSONB NOT NULL CHECK (jsonb_typeof(fill_model) = 'object'),
    seed              BIGINT NOT NULL,
    opening_balance   DECIMAL(16,4) NOT NULL CHECK (opening_balance >= 0),
    -- The whole run (every version together): realised P&L after fees, fees, equity at the end.
    pnl               DECIMAL(16,4) NOT NULL,
    fees              DECIMAL(16,4) NOT NULL CHECK (fees >= 0),
    ending_equity     DECIMAL(16,4) NOT NULL,
    -- The replay's own (virtual) start and finish.
    started_at        TIMESTAMPTZ NOT NULL,
    finished_at       TIMESTAMPTZ NOT NULL,
    recorded_at       TIMESTAMPTZ NOT NULL DEFAULT precog_now(),
    CONSTRAINT backtest_runs_window CHECK (window_to > window_from),
    CONSTRAINT backtest_runs_model_named CHECK ((model_name IS NULL) = (model_version IS NULL))
);
CREATE INDEX idx_backtest_runs_tape ON backtest_runs (tape_id);

-- One row per strategy version of a run. Money DECIMAL(16,4); ratios DECIMAL(…,6). NULL where the
-- report says "n/a" or "∞" (metrics keeps the displayed text of each, so "∞" is not lost).
CREATE TABLE backtest_results (
    backtest_result_id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    backtest_run_id           BIGINT NOT NULL REFERENCES backtest_runs (backtest_run_id) ON DELETE RESTRICT,
    strategy_id               BIGINT NOT NULL REFERENCES strategies (strategy_id) ON DELETE RESTRICT,
    positions                 INT NOT NULL CHECK (positions >= 0),
    closed_positions          INT NOT NULL CHECK (closed_positions >= 0 AND closed_positions <= positions),
    trades_count              INT NOT NULL CHECK (trades_count >= 0),
    pnl                       DECIMAL(16,4) NOT NULL,
    fees                      DECIMAL(16,4) NOT NULL CHECK (fees >= 0),
    -- pnl / opening balance
    roi                       DECIMAL(16,6) NOT NULL,
    -- closed positions' P&L / the cost of their buys: how paper_roi and live_roi are defined
    roi_on_cost               DECIMAL(10,4),
    win_rate                  DECIMAL(8,6) CHECK (win_rate BETWEEN 0 AND 1),
    expectancy                DECIMAL(16,4),
    profit_factor             DECIMAL(20,6) CHECK (profit_factor >= 0),
    max_drawdown              DECIMAL(16,4) NOT NULL CHECK (max_drawdown >= 0),
    max_drawdown_pct          DECIMAL(8,6) NOT NULL CHECK (max_drawdown_pct >= 0),
    time_under_water_seconds  BIGINT NOT NULL CHECK (time_under_water_seconds >= 0),
    sharpe                    DECIMAL(20,6),
    sortino                   DECIMAL(20,6),
    contract_fill_rate        DECIMAL(8,6) CHECK (contract_fill_rate BETWEEN 0 AND 1),
    order_fill_rate           DECIMAL(8,6) CHECK (order_fill_rate BETWEEN 0 AND 1),
    clv_mean                  DECIMAL(10,6),
    clv_share_positive        DECIMAL(8,6) CHECK (clv_share_positive BETWEEN 0 AND 1),
    -- The report's figures of this version as shown (displays of n/a and ∞ included).
    metrics                   JSONB NOT NULL CHECK (jsonb_typeof(metrics) = 'object'),
    recorded_at               TIMESTAMPTZ NOT NULL DEFAULT precog_now(),
    UNIQUE (backtest_run_id, strategy_id)
);
CREATE INDEX idx_backtest_results_strategy ON backtest_results (strategy_id, backtest_run_id DESC);

CREATE TRIGGER backtest_runs_append_only BEFORE UPDATE OR DELETE ON backtest_runs
  FOR EACH ROW EXECUTE FUNCTION reject_append_only_change();
CREATE TRIGGER backtest_runs_no_truncate BEFORE TRUNCATE ON backtest_runs
  FOR EACH STATEMENT EXECUTE FUNCTION reject_append_only_change();
CREATE TRIGGER backtest_results_append_only BEFORE UPDATE OR DELETE ON backtest_results
  FOR EACH ROW EXECUTE FUNCTION reject_append_only_change();
CREATE TRIGGER backtest_results_no_truncate BEFORE TRUNCATE ON backtest_results
  FOR EACH STATEMENT EXECUTE FUNCTION reject_append_only_change();

-- The latest stored backtest of each version, beside paper_roi / live_roi (same ROI definition).
ALTER TABLE strategies
  ADD COLUMN backtest_roi           DECIMAL(10,4),
  ADD COLUMN backtest_trades_count  INT NOT NULL DEFAULT 0 CHECK (backtest_trades_count >= 0),
  ADD COLUMN backtest_run_id        BIGINT REFERENCES backtest_runs (backtest_run_id) ON DELETE RESTRICT;

-- Down Migration
ALTER TABLE strategies DROP COLUMN IF EXISTS backtest_run_id, DROP COLUMN IF EXISTS backtest_trades_count, DROP COLUMN IF EXISTS backtest_roi;
DROP TABLE IF EXISTS backtest_results;
DROP TABLE IF EXISTS backtest_runs;
