-- Up Migration
-- Exits: the monitor's decisions (exit requests), the orders that carry them out attempt by
-- attempt, and the monitor's heartbeat on positions.

-- D22 exit_requests: one decision to sell (part of) a position, made by the monitor and carried
-- out by execute-exit one attempt at a time (price walking). At most one is active per position
-- (a unique partial index): a higher-priority decision supersedes the active one, the same or a
-- lower priority waits for it. `triggers` keeps every exit condition that fired at the decision.
CREATE TABLE exit_requests (
    exit_request_id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    position_id          BIGINT NOT NULL REFERENCES position_identities (position_id) ON DELETE RESTRICT,
    position_version_id  BIGINT NOT NULL,
    exit_condition       exit_condition NOT NULL,
    exit_priority        exit_priority NOT NULL,
    -- Contracts to sell (a partial stage, or everything held at the decision).
    quantity             INT NOT NULL CHECK (quantity > 0),
    filled_quantity      INT NOT NULL DEFAULT 0 CHECK (filled_quantity >= 0 AND filled_quantity <= quantity),
    -- The partial-exit stage it sells (1, 2, …), NULL for whole-position exits.
    partial_stage        INT CHECK (partial_stage >= 1),
    status               VARCHAR NOT NULL DEFAULT 'active'
                           CHECK (status IN ('active', 'filled', 'stopped', 'superseded', 'cancelled')),
    status_reason        TEXT,
    triggers             JSONB NOT NULL,
    -- The active request this one replaced (a higher priority supersedes a lower one in flight).
    supersedes           BIGINT REFERENCES exit_requests (exit_request_id) ON DELETE RESTRICT,
    -- Transactional outbox, as for entry orders.
    enqueued_at          TIMESTAMPTZ,
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    FOREIGN KEY (position_id, position_version_id) REFERENCES positions (position_id, position_version_id) ON DELETE RESTRICT,
    CHECK (status <> 'filled' OR filled_quantity = quantity)
);
CREATE UNIQUE INDEX idx_exit_requests_one_active ON exit_requests (position_id) WHERE status = 'active';
CREATE INDEX idx_exit_requests_unsent ON exit_requests (created_at) WHERE status = 'active' AND enqueued_at IS NULL;
CREATE TRIGGER exit_requests_touch_updated_at BEFORE UPDATE ON exit_requests FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- Requests end once; what a request is never changes.
CREATE FUNCTION guard_exit_request() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'exit_requests are never deleted' USING ERRCODE = 'restrict_violation';
  END IF;
  IF NEW.position_id <> OLD.position_id OR NEW.position_version_id <> OLD.position_version_id
     OR NEW.exit_condition <> OLD.exit_condition OR NEW.exit_priority <> OLD.exit_priority
     OR NEW.quantity <> OLD.quantity OR NEW.partial_stage IS DISTINCT FROM OLD.partial_stage OR NEW.triggers <> OLD.triggers
     OR NEW.supersedes IS DISTINCT FROM OLD.supersedes THEN
    RAISE EXCEPTION 'exit request %: what it is cannot change', OLD.exit_request_id USING ERRCODE = 'check_violation';
  END IF;
  IF OLD.status <> 'active' AND NEW.status <> OLD.status THEN
    RAISE EXCEPTION 'exit request % is %: it cannot become %', OLD.exit_request_id, OLD.status, NEW.status USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.filled_quantity < OLD.filled_quantity THEN
    RAISE EXCEPTION 'exit request %: filled quantity cannot decrease', OLD.exit_request_id USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER exit_requests_guard BEFORE UPDATE OR DELETE ON exit_requests FOR EACH ROW EXECUTE FUNCTION guard_exit_request();

-- Orders, attempts and exits point at the request they belong to.
ALTER TABLE orders ADD COLUMN exit_request_id BIGINT REFERENCES exit_requests (exit_request_id) ON DELETE RESTRICT;
CREATE INDEX idx_orders_exit_request ON orders (exit_request_id) WHERE exit_request_id IS NOT NULL;
ALTER TABLE exit_attempts ADD COLUMN exit_request_id BIGINT REFERENCES exit_requests (exit_request_id) ON DELETE RESTRICT;
ALTER TABLE exit_attempts ADD COLUMN client_order_id VARCHAR;
CREATE INDEX idx_exit_attempts_request ON exit_attempts (exit_request_id);
ALTER TABLE position_exits ADD COLUMN exit_request_id BIGINT REFERENCES exit_requests (exit_request_id) ON DELETE RESTRICT;
CREATE INDEX idx_position_exits_request ON position_exits (exit_request_id);

-- D23 The monitor's heartbeat: re-pricing a position that did not change writes no version, but
-- its current row's last_update moves (stale monitoring is an alarm). That single in-place
-- change of the current row is the one exception to "versions are immutable".
DROP TRIGGER positions_versions_immutable ON positions;
-- (An explicit column list: comparing to_jsonb(OLD) with to_jsonb(NEW) costs 3× as much on the
-- 10,000-row heartbeat of a sweep. A column added to positions later must be added to both lists.)
CREATE TRIGGER positions_versions_immutable BEFORE UPDATE ON positions FOR EACH ROW
  WHEN ((NOT OLD.row_current_ind OR NEW.row_current_ind)
        AND NOT (OLD.row_current_ind AND NEW.row_current_ind
                 AND (OLD.position_version_id, OLD.position_id, OLD.market_id, OLD.platform_id, OLD.side, OLD.execution_mode,
                      OLD.entry_price, OLD.quantity, OLD.original_quantity, OLD.fees, OLD.status, OLD.unrealized_pnl,
                      OLD.realized_pnl, OLD.current_price, OLD.unrealized_pnl_pct, OLD.trailing_stop_state, OLD.exit_reason,
                      OLD.exit_priority, OLD.created_at, OLD.superseded_at, OLD.cost_basis)
                 IS NOT DISTINCT FROM
                     (NEW.position_version_id, NEW.position_id, NEW.market_id, NEW.platform_id, NEW.side, NEW.execution_mode,
                      NEW.entry_price, NEW.quantity, NEW.original_quantity, NEW.fees, NEW.status, NEW.unrealized_pnl,
                      NEW.realized_pnl, NEW.current_price, NEW.unrealized_pnl_pct, NEW.trailing_stop_state, NEW.exit_reason,
                      NEW.exit_priority, NEW.created_at, NEW.superseded_at, NEW.cost_basis)))
  EXECUTE FUNCTION reject_version_rewrite();

-- Down Migration
DROP TRIGGER positions_versions_immutable ON positions;
CREATE TRIGGER positions_versions_immutable BEFORE UPDATE ON positions FOR EACH ROW
  WHEN (NOT OLD.row_current_ind OR NEW.row_current_ind) EXECUTE FUNCTION reject_version_rewrite();
ALTER TABLE position_exits DROP COLUMN IF EXISTS exit_request_id;
ALTER TABLE exit_attempts DROP COLUMN IF EXISTS client_order_id, DROP COLUMN IF EXISTS exit_request_id;
ALTER TABLE orders DROP COLUMN IF EXISTS exit_request_id;
DROP TABLE IF EXISTS exit_requests;
DROP FUNCTION IF EXISTS guard_exit_request();
