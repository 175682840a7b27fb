-- Up Migration
-- Settlement of finished markets: Precog's books (settlements, positions, cash) follow the
-- market's result, and the paper venue settles its own account the way Kalshi does.

-- D25 paper_settlements: the paper venue's record of settling a market for one account. Kalshi
-- settles each market once, by itself; the simulated venue needs a record of having done so, so
-- that settling again (a retry, a second run, a concurrent caller) credits nothing: the primary
-- key makes a second settlement of the same market impossible. Like paper_fills it is what the
-- venue reports as done, so it is append-only. `position` is the signed position (+YES / −NO)
-- that was settled and `credited` the cash it paid: the account's cash is starting balance
-- − Σ buys − Σ fees + Σ sells + Σ credited, exactly. settled_at is the venue's clock.
CREATE TABLE paper_settlements (
    account_id  TEXT NOT NULL REFERENCES paper_accounts (account_id) ON DELETE RESTRICT,
    ticker      TEXT NOT NULL,
    -- The value of one YES contract at settlement; a NO contract pays 1 − yes_payout.
    yes_payout  DECIMAL(10,4) NOT NULL CHECK (yes_payout BETWEEN 0 AND 1),
    position    INT NOT NULL,
    credited    DECIMAL(14,4) NOT NULL CHECK (credited >= 0),
    settled_at  TIMESTAMPTZ NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, ticker)
);
CREATE TRIGGER paper_settlements_append_only BEFORE UPDATE OR DELETE ON paper_settlements
  FOR EACH ROW EXECUTE FUNCTION reject_append_only_change();
CREATE TRIGGER paper_settlements_no_truncate BEFORE TRUNCATE ON paper_settlements
  FOR EACH STATEMENT EXECUTE FUNCTION reject_append_only_change();

-- D26 settle-markets looks for current markets that are settled and have no settlements row on
-- every run. Settled markets are a small, growing share of all markets, most of which are open:
-- this partial index keeps that lookup to the settled ones (closed versions and markets still
-- trading never enter it).
CREATE INDEX idx_markets_settled ON markets (market_id) WHERE row_current_ind AND status = 'settled';

-- Down Migration
DROP INDEX IF EXISTS idx_markets_settled;
DROP TABLE IF EXISTS paper_settlements;
