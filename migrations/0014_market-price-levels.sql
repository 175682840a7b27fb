-- Up Migration
-- D27 A market's price levels (Kalshi's price_level_structure and price_ranges): the prices an
-- order may carry there. Most markets tick in 0.01; some in 0.001, or in 0.001 only in the tails.
-- They live on the versioned markets row, not on market_identities: the venue sets them and can
-- change them (a structure change is a new version like any other market fact), identities are
-- permanent (0006 rejects any UPDATE), and an order must be judged against the levels of the
-- market version it was decided on (trades pin that version). Unchanged levels compare equal
-- (JSONB equality), so they cause no version churn.
-- price_levels: [{"start": "0.0000", "end": "1.0000", "step": "0.0100"}, …] exact dollar strings;
-- NULL = not known (rows written before this migration, other platforms): read as 0.01 ticks.
ALTER TABLE markets
  ADD COLUMN price_level_structure VARCHAR,
  ADD COLUMN price_levels          JSONB
    CHECK (price_levels IS NULL OR (jsonb_typeof(price_levels) = 'array' AND jsonb_array_length(price_levels) > 0));

-- Views over markets were expanded at creation: re-create to include the new columns.
CREATE OR REPLACE VIEW current_markets AS
SELECT * FROM markets WHERE row_current_ind;

-- Down Migration
DROP VIEW IF EXISTS current_markets;
ALTER TABLE markets DROP COLUMN IF EXISTS price_levels, DROP COLUMN IF EXISTS price_level_structure;
CREATE VIEW current_markets AS
SELECT * FROM markets WHERE row_current_ind;
