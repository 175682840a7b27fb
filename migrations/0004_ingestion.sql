-- Up Migration
-- Ingestion (markets, game states) needs a few facts the v1.5 document does not store.

-- D12 Markets keep both sides of the book. The document's yes_price/no_price are the prices to
-- BUY each side (the asks: what an entry pays); exits sell into the bids, and the monitor needs
-- them. last_price is the last traded price; close_time drives the time-based exit.
ALTER TABLE markets
  ADD COLUMN yes_bid    DECIMAL(10,4) CHECK (yes_bid BETWEEN 0 AND 1),
  ADD COLUMN no_bid     DECIMAL(10,4) CHECK (no_bid BETWEEN 0 AND 1),
  ADD COLUMN last_price DECIMAL(10,4) CHECK (last_price BETWEEN 0 AND 1),
  ADD COLUMN close_time TIMESTAMPTZ;

-- Views over markets were expanded at creation: re-create to include the new columns.
CREATE OR REPLACE VIEW current_markets AS
SELECT * FROM markets WHERE row_current_ind;

-- D13 A live game is linked to its exchange event once, by a documented rule, and the link is
-- stored on the game's identity (not recomputed every 30 s). Unmatched games keep NULL.
ALTER TABLE game_identities
  ADD COLUMN event_id   VARCHAR REFERENCES events (event_id) ON DELETE RESTRICT,
  ADD COLUMN match_rule VARCHAR,
  ADD COLUMN matched_at TIMESTAMPTZ,
  ADD COLUMN start_time TIMESTAMPTZ,
  ADD COLUMN home_team  VARCHAR,
  ADD COLUMN away_team  VARCHAR,
  ADD CONSTRAINT game_identities_match_complete CHECK ((event_id IS NULL) = (matched_at IS NULL));
CREATE INDEX idx_game_identities_unmatched ON game_identities (sport, start_time) WHERE event_id IS NULL;

-- D14 Every failed call to an exchange or feed, append-only: the api_failures circuit breaker
-- counts them ("5 errors within 5 minutes"). `final` is false for an attempt that was retried.
CREATE TABLE api_errors (
    api_error_id  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    api           VARCHAR NOT NULL,
    method        VARCHAR NOT NULL,
    url           TEXT NOT NULL,
    kind          VARCHAR NOT NULL CHECK (kind IN ('http', 'timeout', 'network', 'payload')),
    http_status   INT,
    message       TEXT NOT NULL,
    attempt       INT NOT NULL CHECK (attempt >= 1),
    final         BOOLEAN NOT NULL,
    component     VARCHAR,
    occurred_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_api_errors_recent ON api_errors (api, occurred_at);
CREATE TRIGGER api_errors_append_only BEFORE UPDATE OR DELETE ON api_errors
  FOR EACH ROW EXECUTE FUNCTION reject_append_only_change();

-- Down Migration
DROP TABLE IF EXISTS api_errors;
DROP INDEX IF EXISTS idx_game_identities_unmatched;
ALTER TABLE game_identities
  DROP CONSTRAINT IF EXISTS game_identities_match_complete,
  DROP COLUMN IF EXISTS away_team, DROP COLUMN IF EXISTS home_team, DROP COLUMN IF EXISTS start_time,
  DROP COLUMN IF EXISTS matched_at, DROP COLUMN IF EXISTS match_rule, DROP COLUMN IF EXISTS event_id;
ALTER TABLE markets
  DROP COLUMN IF EXISTS close_time, DROP COLUMN IF EXISTS last_price, DROP COLUMN IF EXISTS no_bid, DROP COLUMN IF EXISTS yes_bid;
