-- Up Migration
-- D16 Every market version belongs to its identity on the same platform. A row-level foreign
-- key checked this with one lookup and one row lock per new version (about 12% of ingestion
-- throughput); a statement-level trigger checks the whole batch with one set-based query.
-- Identities are permanent (they never change or go away), so nothing else can orphan a version.
ALTER TABLE markets DROP CONSTRAINT markets_identity_fkey;

CREATE FUNCTION check_market_identities() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE orphan record;
BEGIN
  SELECT v.market_id, v.platform_id INTO orphan
  FROM new_versions v
  WHERE NOT EXISTS (SELECT 1 FROM market_identities mi WHERE mi.market_id = v.market_id AND mi.platform_id = v.platform_id)
  LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'markets: market % has no identity on platform %', orphan.market_id, orphan.platform_id
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER markets_identity_check AFTER INSERT ON markets
  REFERENCING NEW TABLE AS new_versions
  FOR EACH STATEMENT EXECUTE FUNCTION check_market_identities();

CREATE TRIGGER market_identities_permanent BEFORE UPDATE OR DELETE ON market_identities
  FOR EACH ROW EXECUTE FUNCTION reject_append_only_change();

-- Down Migration
DROP TRIGGER IF EXISTS market_identities_permanent ON market_identities;
DROP TRIGGER IF EXISTS markets_identity_check ON markets;
DROP FUNCTION IF EXISTS check_market_identities();
ALTER TABLE markets ADD CONSTRAINT markets_identity_fkey FOREIGN KEY (market_id, platform_id)
  REFERENCES market_identities (market_id, platform_id) ON DELETE RESTRICT;
