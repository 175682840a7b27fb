-- Up Migration
-- D28 Live settlement cross-check. Kalshi settles a market by itself and lists what it credited the
-- account (GET /portfolio/settlements). settle-markets compares that credit with what the books
-- paid their live positions there; a difference is a desync of its own kind ('settlement'), kept
-- open until an operator resolves it: reconciliation, which resolves position and order desyncs
-- when they agree again, never touches it (after settlement both sides hold nothing, which would
-- "agree" at once).
ALTER TABLE venue_desyncs DROP CONSTRAINT venue_desyncs_kind_check;
ALTER TABLE venue_desyncs ADD CONSTRAINT venue_desyncs_kind_check CHECK (kind IN ('position', 'order', 'settlement'));

-- One row per books settlement and mode once the venue's settlement was compared with it
-- (append-only): a settlement without a row is checked again on the next run (the venue may not
-- have settled yet). Amounts are exact dollars: the venue's revenue (integer cents) and the books'
-- expected credit (contracts × payout, less the YES+NO pairs Kalshi pays out when it nets them).
CREATE TABLE settlement_checks (
    settlement_check_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    settlement_id       BIGINT NOT NULL REFERENCES settlements (settlement_id) ON DELETE RESTRICT,
    execution_mode      execution_mode NOT NULL,
    ticker              VARCHAR NOT NULL,
    books_credit        DECIMAL(18,6) NOT NULL,
    venue_credit        DECIMAL(18,6) NOT NULL,
    venue_fee_cost      DECIMAL(18,6) NOT NULL,
    venue_settled_at    TIMESTAMPTZ NOT NULL,
    matched             BOOLEAN NOT NULL,
    checked_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (matched = (books_credit = venue_credit)),
    UNIQUE (settlement_id, execution_mode)
);
CREATE TRIGGER settlement_checks_append_only BEFORE UPDATE OR DELETE ON settlement_checks
  FOR EACH ROW EXECUTE FUNCTION reject_append_only_change();
CREATE TRIGGER settlement_checks_no_truncate BEFORE TRUNCATE ON settlement_checks
  FOR EACH STATEMENT EXECUTE FUNCTION reject_append_only_change();

-- Down Migration
DROP TABLE IF EXISTS settlement_checks;
ALTER TABLE venue_desyncs DROP CONSTRAINT IF EXISTS venue_desyncs_kind_check;
ALTER TABLE venue_desyncs ADD CONSTRAINT venue_desyncs_kind_check CHECK (kind IN ('position', 'order'));
