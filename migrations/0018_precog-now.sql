-- Up Migration
-- One clock for SQL (issue 17). Every timestamp the database writes by itself (column defaults,
-- the updated_at trigger) reads precog_now(): the transaction-local setting precog.now when the
-- application runs on a virtual clock (the local runtime, backtests, tests: shared/db/clockedClient.ts
-- sets it at BEGIN), else now(). Deployed functions never set it, so for them nothing changes:
-- precog_now() is now(), the transaction's start time.
-- NULLIF: once a session has used the setting, PostgreSQL keeps the placeholder and resets it to ''
-- (not NULL) after the transaction, and '' must read as "not set".
-- Migrations 0001-0017 are applied history and stay as they were; this one redefines what they
-- created. test/integration/sql-clock.test.ts checks the migrated catalog: no default, function of
-- ours or view reads the clock any other way.
CREATE OR REPLACE FUNCTION precog_now() RETURNS timestamptz LANGUAGE sql STABLE PARALLEL SAFE AS $$ SELECT COALESCE(NULLIF(current_setting('precog.now', true), '')::timestamptz, now()) $$;

-- Metadata-only changes (no table rewrite); each takes a short ACCESS EXCLUSIVE lock on its table.
ALTER TABLE platforms ALTER COLUMN created_at SET DEFAULT precog_now();
ALTER TABLE series
  ALTER COLUMN created_at SET DEFAULT precog_now(),
  ALTER COLUMN updated_at SET DEFAULT precog_now();
ALTER TABLE events
  ALTER COLUMN created_at SET DEFAULT precog_now(),
  ALTER COLUMN updated_at SET DEFAULT precog_now();
ALTER TABLE market_identities ALTER COLUMN created_at SET DEFAULT precog_now();
ALTER TABLE markets
  ALTER COLUMN created_at SET DEFAULT precog_now(),
  ALTER COLUMN updated_at SET DEFAULT precog_now();
ALTER TABLE game_identities ALTER COLUMN created_at SET DEFAULT precog_now();
ALTER TABLE game_states
  ALTER COLUMN created_at SET DEFAULT precog_now(),
  ALTER COLUMN updated_at SET DEFAULT precog_now();
ALTER TABLE probability_matrices ALTER COLUMN created_at SET DEFAULT precog_now();
ALTER TABLE probability_models ALTER COLUMN created_at SET DEFAULT precog_now();
ALTER TABLE strategies ALTER COLUMN created_at SET DEFAULT precog_now();
ALTER TABLE edge_identities ALTER COLUMN created_at SET DEFAULT precog_now();
ALTER TABLE edges ALTER COLUMN created_at SET DEFAULT precog_now();
ALTER TABLE position_identities ALTER COLUMN created_at SET DEFAULT precog_now();
ALTER TABLE positions
  ALTER COLUMN created_at SET DEFAULT precog_now(),
  ALTER COLUMN updated_at SET DEFAULT precog_now();
ALTER TABLE trades ALTER COLUMN created_at SET DEFAULT precog_now();
ALTER TABLE position_exits ALTER COLUMN created_at SET DEFAULT precog_now();
ALTER TABLE exit_attempts ALTER COLUMN created_at SET DEFAULT precog_now();
ALTER TABLE settlements ALTER COLUMN created_at SET DEFAULT precog_now();
ALTER TABLE balance_identities ALTER COLUMN created_at SET DEFAULT precog_now();
ALTER TABLE account_balance ALTER COLUMN created_at SET DEFAULT precog_now();
ALTER TABLE config_overrides ALTER COLUMN applied_at SET DEFAULT precog_now();
ALTER TABLE circuit_breaker_events ALTER COLUMN triggered_at SET DEFAULT precog_now();
ALTER TABLE system_health ALTER COLUMN last_check SET DEFAULT precog_now();
ALTER TABLE api_errors ALTER COLUMN occurred_at SET DEFAULT precog_now();
ALTER TABLE orders
  ALTER COLUMN created_at SET DEFAULT precog_now(),
  ALTER COLUMN updated_at SET DEFAULT precog_now();
ALTER TABLE paper_accounts
  ALTER COLUMN created_at SET DEFAULT precog_now(),
  ALTER COLUMN updated_at SET DEFAULT precog_now();
ALTER TABLE paper_orders
  ALTER COLUMN created_at SET DEFAULT precog_now(),
  ALTER COLUMN updated_at SET DEFAULT precog_now();
ALTER TABLE paper_fills ALTER COLUMN created_at SET DEFAULT precog_now();
ALTER TABLE paper_positions
  ALTER COLUMN created_at SET DEFAULT precog_now(),
  ALTER COLUMN updated_at SET DEFAULT precog_now();
ALTER TABLE venue_desyncs
  ALTER COLUMN detected_at SET DEFAULT precog_now(),
  ALTER COLUMN last_seen_at SET DEFAULT precog_now();
ALTER TABLE exit_requests
  ALTER COLUMN created_at SET DEFAULT precog_now(),
  ALTER COLUMN updated_at SET DEFAULT precog_now();
ALTER TABLE paper_settlements ALTER COLUMN created_at SET DEFAULT precog_now();
ALTER TABLE settlement_checks ALTER COLUMN checked_at SET DEFAULT precog_now();

-- 0002's trigger function, body unchanged but for the clock (orders, exit_requests, series, events).
CREATE OR REPLACE FUNCTION touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := precog_now();
  RETURN NEW;
END
$$;

-- Down Migration
CREATE OR REPLACE FUNCTION touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;

ALTER TABLE platforms ALTER COLUMN created_at SET DEFAULT now();
ALTER TABLE series
  ALTER COLUMN created_at SET DEFAULT now(),
  ALTER COLUMN updated_at SET DEFAULT now();
ALTER TABLE events
  ALTER COLUMN created_at SET DEFAULT now(),
  ALTER COLUMN updated_at SET DEFAULT now();
ALTER TABLE market_identities ALTER COLUMN created_at SET DEFAULT now();
ALTER TABLE markets
  ALTER COLUMN created_at SET DEFAULT now(),
  ALTER COLUMN updated_at SET DEFAULT now();
ALTER TABLE game_identities ALTER COLUMN created_at SET DEFAULT now();
ALTER TABLE game_states
  ALTER COLUMN created_at SET DEFAULT now(),
  ALTER COLUMN updated_at SET DEFAULT now();
ALTER TABLE probability_matrices ALTER COLUMN created_at SET DEFAULT now();
ALTER TABLE probability_models ALTER COLUMN created_at SET DEFAULT now();
ALTER TABLE strategies ALTER COLUMN created_at SET DEFAULT now();
ALTER TABLE edge_identities ALTER COLUMN created_at SET DEFAULT now();
ALTER TABLE edges ALTER COLUMN created_at SET DEFAULT now();
ALTER TABLE position_identities ALTER COLUMN created_at SET DEFAULT now();
ALTER TABLE positions
  ALTER COLUMN created_at SET DEFAULT now(),
  ALTER COLUMN updated_at SET DEFAULT now();
ALTER TABLE trades ALTER COLUMN created_at SET DEFAULT now();
ALTER TABLE position_exits ALTER COLUMN created_at SET DEFAULT now();
ALTER TABLE exit_attempts ALTER COLUMN created_at SET DEFAULT now();
ALTER TABLE settlements ALTER COLUMN created_at SET DEFAULT now();
ALTER TABLE balance_identities ALTER COLUMN created_at SET DEFAULT now();
ALTER TABLE account_balance ALTER COLUMN created_at SET DEFAULT now();
ALTER TABLE config_overrides ALTER COLUMN applied_at SET DEFAULT now();
ALTER TABLE circuit_breaker_events ALTER COLUMN triggered_at SET DEFAULT now();
ALTER TABLE system_health ALTER COLUMN last_check SET DEFAULT now();
ALTER TABLE api_errors ALTER COLUMN occurred_at SET DEFAULT now();
ALTER TABLE orders
  ALTER COLUMN created_at SET DEFAULT now(),
  ALTER COLUMN updated_at SET DEFAULT now();
ALTER TABLE paper_accounts
  ALTER COLUMN created_at SET DEFAULT now(),
  ALTER COLUMN updated_at SET DEFAULT now();
ALTER TABLE paper_orders
  ALTER COLUMN created_at SET DEFAULT now(),
  ALTER COLUMN updated_at SET DEFAULT now();
ALTER TABLE paper_fills ALTER COLUMN created_at SET DEFAULT now();
ALTER TABLE paper_positions
  ALTER COLUMN created_at SET DEFAULT now(),
  ALTER COLUMN updated_at SET DEFAULT now();
ALTER TABLE venue_desyncs
  ALTER COLUMN detected_at SET DEFAULT now(),
  ALTER COLUMN last_seen_at SET DEFAULT now();
ALTER TABLE exit_requests
  ALTER COLUMN created_at SET DEFAULT now(),
  ALTER COLUMN updated_at SET DEFAULT now();
ALTER TABLE paper_settlements ALTER COLUMN created_at SET DEFAULT now();
ALTER TABLE settlement_checks ALTER COLUMN checked_at SET DEFAULT now();

DROP FUNCTION IF EXISTS precog_now();
