-- Up Migration
-- Integrity rules the database enforces itself, so no code path (handler, CLI, psql) can break them.

-- Append-only history: trades, settlements, position_exits and exit_attempts never change.
CREATE FUNCTION reject_append_only_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'restrict_violation',
          HINT = 'Record a new row (a correcting trade, a new attempt) instead of changing history.';
END
$$;

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['trades', 'settlements', 'position_exits', 'exit_attempts'] LOOP
    EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION reject_append_only_change()',
                   t || '_append_only', t);
    EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION reject_append_only_change()',
                   t || '_no_truncate', t);
  END LOOP;
END
$$;

-- Immutable versions: a strategy or model version's identity and config never change once
-- inserted; status, metrics, notes stay updatable (A/B attribution depends on this).
-- Arguments: the name column, the version column, then every column that must not change.
CREATE FUNCTION reject_immutable_version_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  old_row jsonb := to_jsonb(OLD);
  new_row jsonb := to_jsonb(NEW);
  col text;
BEGIN
  FOREACH col IN ARRAY TG_ARGV[2:] LOOP
    IF old_row -> col IS DISTINCT FROM new_row -> col THEN
      RAISE EXCEPTION '% % % is an immutable version: % cannot change',
        TG_TABLE_NAME, old_row ->> TG_ARGV[0], old_row ->> TG_ARGV[1], col
        USING ERRCODE = 'restrict_violation', HINT = 'Create a new version instead.';
    END IF;
  END LOOP;
  RETURN NEW;
END
$$;
CREATE TRIGGER strategies_immutable_version BEFORE UPDATE ON strategies
  FOR EACH ROW EXECUTE FUNCTION reject_immutable_version_change(
    'strategy_name', 'strategy_version',
    'strategy_id', 'strategy_name', 'strategy_version', 'strategy_type', 'sport', 'config', 'created_at');
CREATE TRIGGER probability_models_immutable_version BEFORE UPDATE ON probability_models
  FOR EACH ROW EXECUTE FUNCTION reject_immutable_version_change(
    'model_name', 'model_version',
    'model_id', 'model_name', 'model_version', 'model_type', 'sport', 'config', 'created_at');

-- Probability matrix cells are published data: a correction is a new matrix version.
CREATE TRIGGER probability_matrices_immutable BEFORE UPDATE ON probability_matrices
  FOR EACH ROW EXECUTE FUNCTION reject_append_only_change();

-- Versioned (SCD-2) history: the only legal UPDATE closes the current version. Historical rows
-- never change and a current row is never edited in place (a change is a new version).
-- The WHEN clause is evaluated without calling PL/pgSQL, so closing rows in bulk stays cheap.
CREATE FUNCTION reject_version_rewrite() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is versioned: only closing the current version (row_current_ind TRUE -> FALSE) is allowed', TG_TABLE_NAME
    USING ERRCODE = 'restrict_violation', HINT = 'Insert a new version instead of updating a row.';
END
$$;

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['markets', 'game_states', 'edges', 'positions', 'account_balance'] LOOP
    EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE ON %I FOR EACH ROW '
                   'WHEN (NOT OLD.row_current_ind OR NEW.row_current_ind) EXECUTE FUNCTION reject_version_rewrite()',
                   t || '_versions_immutable', t);
  END LOOP;
END
$$;

-- A circuit-breaker event keeps what tripped it; only its resolution may be filled in, once.
CREATE FUNCTION guard_circuit_breaker_event() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'circuit_breaker_events are an audit trail: DELETE is not allowed' USING ERRCODE = 'restrict_violation';
  END IF;
  IF NEW.event_id IS DISTINCT FROM OLD.event_id
     OR NEW.breaker_type IS DISTINCT FROM OLD.breaker_type
     OR NEW.triggered_at IS DISTINCT FROM OLD.triggered_at
     OR NEW.trigger_value IS DISTINCT FROM OLD.trigger_value THEN
    RAISE EXCEPTION 'circuit breaker event %: what tripped it cannot change', OLD.event_id USING ERRCODE = 'restrict_violation';
  END IF;
  IF OLD.resolved_at IS NOT NULL AND (NEW.resolved_at IS DISTINCT FROM OLD.resolved_at
     OR NEW.resolution_action IS DISTINCT FROM OLD.resolution_action) THEN
    RAISE EXCEPTION 'circuit breaker event % is already resolved', OLD.event_id USING ERRCODE = 'restrict_violation';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER circuit_breaker_events_guard BEFORE UPDATE OR DELETE ON circuit_breaker_events
  FOR EACH ROW EXECUTE FUNCTION guard_circuit_breaker_event();

-- Type-1 (updated in place) registry rows keep updated_at from the database clock.
CREATE FUNCTION touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;
CREATE TRIGGER series_touch_updated_at BEFORE UPDATE ON series FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE TRIGGER events_touch_updated_at BEFORE UPDATE ON events FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- Down Migration
DROP TRIGGER IF EXISTS events_touch_updated_at ON events;
DROP TRIGGER IF EXISTS series_touch_updated_at ON series;
DROP TRIGGER IF EXISTS circuit_breaker_events_guard ON circuit_breaker_events;
DROP TRIGGER IF EXISTS probability_matrices_immutable ON probability_matrices;
DROP TRIGGER IF EXISTS probability_models_immutable_version ON probability_models;
DROP TRIGGER IF EXISTS strategies_immutable_version ON strategies;
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['trades', 'settlements', 'position_exits', 'exit_attempts'] LOOP
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', t || '_append_only', t);
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', t || '_no_truncate', t);
  END LOOP;
  FOREACH t IN ARRAY ARRAY['markets', 'game_states', 'edges', 'positions', 'account_balance'] LOOP
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', t || '_versions_immutable', t);
  END LOOP;
END
$$;
DROP FUNCTION IF EXISTS touch_updated_at(), guard_circuit_breaker_event(), reject_version_rewrite(),
  reject_immutable_version_change(), reject_append_only_change();
