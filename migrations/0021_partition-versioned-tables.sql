-- Up Migration
-- Issue 20: partition the high-volume versioned tables (markets, game_states) by time, with the
-- one-current-row and immutability guarantees unchanged (docs/schema.md "Partitioning").
--
-- Layout of each table T (LIST on row_current_ind, then RANGE on superseded_at):
--   T                  partitioned by LIST (row_current_ind)
--   ├─ T_current       FOR VALUES IN (TRUE): every current row; the one-current-row UNIQUE index
--   │                  (idx_T_current) and the other current-row partial indexes live here, so
--   │                  current rows stay as fast as the current set is small, whatever the history.
--   └─ T_history       FOR VALUES IN (FALSE), partitioned by RANGE (superseded_at)
--      ├─ T_history_YYYY_MM   one per UTC month of superseded_at (created ahead by maintain-partitions)
--      └─ T_history_default   DEFAULT: a version closed in a month without a partition still
--                             inserts; maintain-partitions moves such rows to their month.
-- Why: a UNIQUE index on a partitioned table must contain the partition key, so "one current row
-- per business key" cannot be a global index; it is a unique index on the T_current leaf, which by
-- its partition constraint holds every current row and only those. Closing a version
-- (row_current_ind TRUE -> FALSE) moves the row to T_history (PostgreSQL does a delete + insert);
-- superseded_at, the moment of the move, is always "now", so history only ever grows in the newest
-- month partitions and old months can be archived and dropped whole.
--
-- The primary keys (markets (market_id, market_version_id), game_states (game_state_id)) cannot
-- stay unique on a partitioned table without the partition key: they become non-unique
-- partitioned indexes (T_version_idx); the version keys stay unique because they come from the
-- identity column (GENERATED ALWAYS). The foreign keys that pointed at a version
-- (trades (market_id, market_version_id) -> markets, edges.game_state_id -> game_states) become
-- statement-level triggers checking every inserted row in one set-based query (those rows are
-- append-only or versioned, so the referenced version cannot change under them), and DELETE and
-- TRUNCATE of T are refused: history leaves only as whole archived partitions.
--
-- Columns, CHECK constraints, defaults (precog_now()), the identity, foreign keys to other tables,
-- triggers (0002 immutability, 0006 identity check), indexes and the dependent views are copied
-- from the catalog, not listed here, so columns added by an earlier migration (0020) come along.

-- The conversion copies every row of both tables once, in this transaction: lift the role's 30 s
-- statement_timeout (0013) for it. At deployed sizes (millions of versions) it takes minutes and
-- holds ACCESS EXCLUSIVE on markets and game_states meanwhile: run it in a maintenance window,
-- from `npx precog migrate` when it cannot fit the migrate function's 300 s.
SELECT set_config('statement_timeout', '0', true);

-- ensure_history_partitions(T, from, to): creates the missing month partitions of T_history
-- covering [from, to), moving any row of those months out of T_history_default first. Returns
-- the partitions created. One implementation for this migration, maintain-partitions and restore
-- (shared/lifecycle/partitions.ts). Each new partition is built alone, then attached: ATTACH takes
-- SHARE UPDATE EXCLUSIVE on the parent, so ingestion keeps writing meanwhile.
CREATE FUNCTION ensure_history_partitions(parent text, range_from timestamptz, range_to timestamptz)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  history text := parent || '_history';
  month_start timestamptz;
  month_end timestamptz;
  part text;
  cols text;
BEGIN
  IF to_regclass(history) IS NULL THEN
    RAISE EXCEPTION 'ensure_history_partitions: % is not a partitioned versioned table', parent USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF range_to < range_from THEN
    RAISE EXCEPTION 'ensure_history_partitions: range ends (%) before it starts (%)', range_to, range_from USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols
  FROM pg_attribute WHERE attrelid = history::regclass AND attnum > 0 AND NOT attisdropped;
  month_start := date_trunc('month', range_from AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
  WHILE month_start < range_to LOOP
    month_end := (date_trunc('month', month_start AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC';
    part := history || '_' || to_char(month_start AT TIME ZONE 'UTC', 'YYYY_MM');
    IF to_regclass(part) IS NULL THEN
      EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part, history);
      EXECUTE format('WITH moved AS (DELETE FROM %I WHERE superseded_at >= $1 AND superseded_at < $2 RETURNING %s) '
                     'INSERT INTO %I (%s) SELECT %s FROM moved',
                     history || '_default', cols, part, cols, cols) USING month_start, month_end;
      EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                     history, part, month_start, month_end);
      RETURN NEXT part;
    END IF;
    month_start := month_end;
  END LOOP;
END
$$;

-- 0002's message named TG_TABLE_NAME, which on a partitioned table is the leaf (markets_current):
-- name the table the user wrote to.
CREATE OR REPLACE FUNCTION reject_version_rewrite() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is versioned: only closing the current version (row_current_ind TRUE -> FALSE) is allowed',
    coalesce(pg_partition_root(TG_RELID)::text, TG_TABLE_NAME)
    USING ERRCODE = 'restrict_violation', HINT = 'Insert a new version instead of updating a row.';
END
$$;

-- History is never deleted row by row (statement-level: a version moving from T_current to
-- T_history is a delete + insert inside an UPDATE, which fires no DELETE statement trigger).
CREATE FUNCTION reject_versioned_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is versioned history: % is not allowed', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'restrict_violation',
          HINT = 'History leaves only as whole month partitions, archived first (shared/lifecycle/partitions.ts).';
END
$$;

-- Replaces the foreign key trades (market_id, market_version_id) -> markets.
CREATE FUNCTION check_trade_market_versions() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE orphan record;
BEGIN
  SELECT t.trade_id, t.market_id, t.market_version_id INTO orphan
  FROM new_trades t
  WHERE t.market_version_id IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM markets m WHERE m.market_id = t.market_id AND m.market_version_id = t.market_version_id)
  LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'trades: market version % of market % does not exist', orphan.market_version_id, orphan.market_id
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NULL;
END
$$;

-- Replaces the foreign key edges.game_state_id -> game_states.
CREATE FUNCTION check_edge_game_states() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE orphan record;
BEGIN
  SELECT e.game_state_id INTO orphan
  FROM new_edges e
  WHERE e.game_state_id IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM game_states g WHERE g.game_state_id = e.game_state_id)
  LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'edges: game state version % does not exist', orphan.game_state_id
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NULL;
END
$$;

DO $$
DECLARE
  tbl text;
  old text;
  views text[] := '{}';
  view_names text[] := '{}';
  defs text[];
  def text;
  identity_col text;
  seq text;
  first_closed timestamptz;
  i int;
BEGIN
  -- Views over the tables (and views over those), oldest first: dropped now, re-created at the end.
  WITH RECURSIVE dependents(oid) AS (
    SELECT DISTINCT r.ev_class FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
    WHERE d.refobjid IN ('markets'::regclass, 'game_states'::regclass) AND r.ev_class NOT IN ('markets'::regclass, 'game_states'::regclass)
    UNION
    SELECT r.ev_class FROM dependents x JOIN pg_depend d ON d.refobjid = x.oid JOIN pg_rewrite r ON r.oid = d.objid
    WHERE r.ev_class <> x.oid
  )
  SELECT coalesce(array_agg(c.relname::text ORDER BY c.oid), '{}'),
         coalesce(array_agg(format('CREATE VIEW %I AS %s', c.relname, pg_get_viewdef(c.oid)) ORDER BY c.oid), '{}')
  INTO view_names, views
  FROM (SELECT DISTINCT oid FROM dependents) x JOIN pg_class c ON c.oid = x.oid;
  FOR i IN REVERSE coalesce(array_length(view_names, 1), 0) .. 1 LOOP
    EXECUTE format('DROP VIEW %I', view_names[i]);
  END LOOP;

  -- The version foreign keys pointing at the tables: replaced by the trigger checks below.
  ALTER TABLE trades DROP CONSTRAINT trades_market_id_market_version_id_fkey;
  ALTER TABLE edges DROP CONSTRAINT edges_game_state_id_fkey;

  FOREACH tbl IN ARRAY ARRAY['markets', 'game_states'] LOOP
    old := tbl || '_unpartitioned';
    -- Captured while the definitions still name the table: indexes, triggers, outgoing foreign keys.
    SELECT array_agg(pg_get_indexdef(indexrelid) ORDER BY indexrelid) INTO defs FROM pg_index WHERE indrelid = tbl::regclass;
    EXECUTE format('ALTER TABLE %I RENAME TO %I', tbl, old);

    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY INCLUDING GENERATED '
                   'INCLUDING STORAGE INCLUDING COMMENTS) PARTITION BY LIST (row_current_ind)', tbl, old);
    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES IN (TRUE)', tbl || '_current', tbl);
    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES IN (FALSE) PARTITION BY RANGE (superseded_at)', tbl || '_history', tbl);
    EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', tbl || '_history_default', tbl || '_history');
    -- Months of the existing history up to three months ahead (what maintain-partitions keeps).
    EXECUTE format('SELECT min(superseded_at) FROM %I', old) INTO first_closed;
    PERFORM ensure_history_partitions(tbl, least(coalesce(first_closed, precog_now()), precog_now()), precog_now() + interval '3 months');

    -- Existing rows, with their version keys (OVERRIDING SYSTEM VALUE), before the triggers exist.
    EXECUTE format('INSERT INTO %I OVERRIDING SYSTEM VALUE SELECT * FROM %I', tbl, old);
    SELECT attname INTO identity_col FROM pg_attribute WHERE attrelid = tbl::regclass AND attidentity <> '' AND NOT attisdropped;
    seq := pg_get_serial_sequence(tbl, identity_col);
    EXECUTE format('SELECT setval(%L, greatest((SELECT last_value FROM %s), coalesce((SELECT max(%I) FROM %I), 1)))',
                   seq, pg_get_serial_sequence(old, identity_col), identity_col, old);

    FOR def IN SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = old::regclass AND NOT tgisinternal ORDER BY oid LOOP
      EXECUTE replace(def, format(' ON public.%s ', old), format(' ON public.%s ', tbl));
    END LOOP;
    FOR def IN SELECT format('ALTER TABLE %I ADD CONSTRAINT %I %s', tbl, conname, pg_get_constraintdef(oid))
               FROM pg_constraint WHERE conrelid = old::regclass AND contype = 'f' ORDER BY oid LOOP
      defs := defs || def;
    END LOOP;

    EXECUTE format('DROP TABLE %I', old);
    -- The identity sequence takes back its old name (nothing refers to it by name, but psql users do).
    EXECUTE format('ALTER SEQUENCE %s RENAME TO %I', seq, tbl || '_' || identity_col || '_seq');

    FOREACH def IN ARRAY defs LOOP
      IF def LIKE 'ALTER TABLE%' THEN
        EXECUTE def;
      ELSIF def LIKE '%WHERE%row_current_ind%' THEN
        -- Current-row indexes (the one-current-row UNIQUE one among them) live on T_current.
        EXECUTE replace(def, format(' ON public.%s ', tbl), format(' ON public.%s ', tbl || '_current'));
      ELSIF def LIKE format('CREATE UNIQUE INDEX %s_pkey %%', tbl) THEN
        -- The former primary key: a non-unique partitioned index (version keys are unique by identity).
        EXECUTE replace(replace(def, 'CREATE UNIQUE INDEX', 'CREATE INDEX'), tbl || '_pkey', tbl || '_version_idx');
      ELSE
        EXECUTE def;
      END IF;
    END LOOP;

    -- On the table and on its partition of current rows (a statement naming a month partition
    -- directly is partition maintenance: ensure_history_partitions moves rows out of the default).
    EXECUTE format('CREATE TRIGGER %I BEFORE DELETE ON %I FOR EACH STATEMENT EXECUTE FUNCTION reject_versioned_delete()', tbl || '_no_delete', tbl);
    EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION reject_versioned_delete()', tbl || '_no_truncate', tbl);
    EXECUTE format('CREATE TRIGGER %I BEFORE DELETE ON %I FOR EACH STATEMENT EXECUTE FUNCTION reject_versioned_delete()', tbl || '_current_no_delete', tbl || '_current');
    EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION reject_versioned_delete()', tbl || '_current_no_truncate', tbl || '_current');
  END LOOP;

  CREATE TRIGGER trades_market_version_check AFTER INSERT ON trades
    REFERENCING NEW TABLE AS new_trades FOR EACH STATEMENT EXECUTE FUNCTION check_trade_market_versions();
  CREATE TRIGGER edges_game_state_check AFTER INSERT ON edges
    REFERENCING NEW TABLE AS new_edges FOR EACH STATEMENT EXECUTE FUNCTION check_edge_game_states();

  FOREACH def IN ARRAY views LOOP
    EXECUTE def;
  END LOOP;
  ANALYZE markets;
  ANALYZE game_states;
END
$$;

-- Down Migration
-- Back to one plain table each, same generic copy; the primary keys and foreign keys return.
SELECT set_config('statement_timeout', '0', true);
DO $$
DECLARE
  tbl text;
  old text;
  views text[] := '{}';
  view_names text[] := '{}';
  defs text[];
  def text;
  identity_col text;
  seq text;
  i int;
BEGIN
  WITH RECURSIVE dependents(oid) AS (
    SELECT DISTINCT r.ev_class FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
    WHERE d.refobjid IN ('markets'::regclass, 'game_states'::regclass) AND r.ev_class NOT IN ('markets'::regclass, 'game_states'::regclass)
    UNION
    SELECT r.ev_class FROM dependents x JOIN pg_depend d ON d.refobjid = x.oid JOIN pg_rewrite r ON r.oid = d.objid
    WHERE r.ev_class <> x.oid
  )
  SELECT coalesce(array_agg(c.relname::text ORDER BY c.oid), '{}'),
         coalesce(array_agg(format('CREATE VIEW %I AS %s', c.relname, pg_get_viewdef(c.oid)) ORDER BY c.oid), '{}')
  INTO view_names, views
  FROM (SELECT DISTINCT oid FROM dependents) x JOIN pg_class c ON c.oid = x.oid;
  FOR i IN REVERSE coalesce(array_length(view_names, 1), 0) .. 1 LOOP
    EXECUTE format('DROP VIEW %I', view_names[i]);
  END LOOP;
  DROP TRIGGER trades_market_version_check ON trades;
  DROP TRIGGER edges_game_state_check ON edges;

  FOREACH tbl IN ARRAY ARRAY['markets', 'game_states'] LOOP
    old := tbl || '_partitioned';
    EXECUTE format('DROP TRIGGER %I ON %I', tbl || '_no_delete', tbl);
    EXECUTE format('DROP TRIGGER %I ON %I', tbl || '_no_truncate', tbl);
    -- Partitioned indexes of the parent and the current-row indexes of T_current.
    SELECT array_agg(pg_get_indexdef(indexrelid) ORDER BY indexrelid) INTO defs
    FROM pg_index WHERE indrelid IN (tbl::regclass, (tbl || '_current')::regclass)
      AND NOT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = indexrelid);
    EXECUTE format('ALTER TABLE %I RENAME TO %I', tbl, old);
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY INCLUDING GENERATED '
                   'INCLUDING STORAGE INCLUDING COMMENTS)', tbl, old);
    EXECUTE format('INSERT INTO %I OVERRIDING SYSTEM VALUE SELECT * FROM %I', tbl, old);
    SELECT attname INTO identity_col FROM pg_attribute WHERE attrelid = tbl::regclass AND attidentity <> '' AND NOT attisdropped;
    seq := pg_get_serial_sequence(tbl, identity_col);
    EXECUTE format('SELECT setval(%L, greatest((SELECT last_value FROM %s), coalesce((SELECT max(%I) FROM %I), 1)))',
                   seq, pg_get_serial_sequence(old, identity_col), identity_col, old);
    FOR def IN SELECT pg_get_triggerdef(oid) FROM pg_trigger
               WHERE tgrelid = old::regclass AND NOT tgisinternal AND tgparentid = 0 ORDER BY oid LOOP
      EXECUTE replace(def, format(' ON public.%s ', old), format(' ON public.%s ', tbl));
    END LOOP;
    FOR def IN SELECT format('ALTER TABLE %I ADD CONSTRAINT %I %s', tbl, conname, pg_get_constraintdef(oid))
               FROM pg_constraint WHERE conrelid = old::regclass AND contype = 'f' ORDER BY oid LOOP
      defs := defs || def;
    END LOOP;
    EXECUTE format('DROP TABLE %I', old);
    EXECUTE format('ALTER SEQUENCE %s RENAME TO %I', seq, tbl || '_' || identity_col || '_seq');
    FOREACH def IN ARRAY defs LOOP
      IF def LIKE format('CREATE INDEX %s_version_idx %%', tbl) THEN
        EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I PRIMARY KEY (%s)', tbl, tbl || '_pkey',
                       substring(def FROM '\(([^)]*)\)$'));
      ELSE
        EXECUTE replace(replace(def, format(' ON ONLY public.%s ', tbl), format(' ON public.%s ', tbl)),
                        format(' ON public.%s ', tbl || '_current'), format(' ON public.%s ', tbl));
      END IF;
    END LOOP;
  END LOOP;

  ALTER TABLE trades ADD CONSTRAINT trades_market_id_market_version_id_fkey
    FOREIGN KEY (market_id, market_version_id) REFERENCES markets (market_id, market_version_id) ON DELETE RESTRICT;
  ALTER TABLE edges ADD CONSTRAINT edges_game_state_id_fkey
    FOREIGN KEY (game_state_id) REFERENCES game_states (game_state_id) ON DELETE RESTRICT;
  FOREACH def IN ARRAY views LOOP
    EXECUTE def;
  END LOOP;
END
$$;
CREATE OR REPLACE FUNCTION reject_version_rewrite() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is versioned: only closing the current version (row_current_ind TRUE -> FALSE) is allowed', TG_TABLE_NAME
    USING ERRCODE = 'restrict_violation', HINT = 'Insert a new version instead of updating a row.';
END
$$;
DROP FUNCTION IF EXISTS check_edge_game_states(), check_trade_market_versions(), reject_versioned_delete(),
  ensure_history_partitions(text, timestamptz, timestamptz);
