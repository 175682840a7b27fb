-- Up Migration
-- Top-of-book sizes: Kalshi's market payload carries the contracts offered at the best YES bid
-- and the best YES ask (`yes_bid_size_fp`, `yes_ask_size_fp`: fixed-point, 2 decimals,
-- fractional since 2026). Ingestion records them on the market version beside the prices, so
-- that a backtest's fill model can cap a fill by the displayed size (docs/backtest.md). The NO
-- side is the same book seen from the other side: NO ask size = YES bid size, NO bid size = YES
-- ask size. NULL = not known (rows written before this migration, other platforms): a fill model
-- then has no cap to apply and says so.
ALTER TABLE markets
  ADD COLUMN yes_bid_size DECIMAL(18,2) CHECK (yes_bid_size >= 0),
  ADD COLUMN yes_ask_size DECIMAL(18,2) CHECK (yes_ask_size >= 0);

-- Views over markets were expanded at creation: re-create to include the new columns.
CREATE OR REPLACE VIEW current_markets AS
SELECT * FROM markets WHERE row_current_ind;

-- Down Migration
DROP VIEW IF EXISTS current_markets;
ALTER TABLE markets DROP COLUMN IF EXISTS yes_ask_size, DROP COLUMN IF EXISTS yes_bid_size;
CREATE VIEW current_markets AS
SELECT * FROM markets WHERE row_current_ind;
