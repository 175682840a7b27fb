-- Up Migration
-- The heartbeat exception of 0009/0012 compared every column of a current position except
-- updated_at, so updated_at alone could be rewritten in place (found by the information_schema
-- driven test in test/integration/immutable-columns.test.ts). Same trigger, updated_at added:
-- only last_update may move on a current version.
DROP TRIGGER positions_versions_immutable ON positions;
CREATE TRIGGER positions_versions_immutable BEFORE UPDATE ON positions FOR EACH ROW
  WHEN ((NOT OLD.row_current_ind OR NEW.row_current_ind)
        AND NOT (OLD.row_current_ind AND NEW.row_current_ind
                 AND (OLD.position_version_id, OLD.position_id, OLD.market_id, OLD.platform_id, OLD.side, OLD.execution_mode,
                      OLD.entry_price, OLD.quantity, OLD.original_quantity, OLD.fees, OLD.status, OLD.unrealized_pnl,
                      OLD.realized_pnl, OLD.current_price, OLD.unrealized_pnl_pct, OLD.trailing_stop_state, OLD.exit_reason,
                      OLD.exit_priority, OLD.created_at, OLD.superseded_at, OLD.cost_basis, OLD.updated_at)
                 IS NOT DISTINCT FROM
                     (NEW.position_version_id, NEW.position_id, NEW.market_id, NEW.platform_id, NEW.side, NEW.execution_mode,
                      NEW.entry_price, NEW.quantity, NEW.original_quantity, NEW.fees, NEW.status, NEW.unrealized_pnl,
                      NEW.realized_pnl, NEW.current_price, NEW.unrealized_pnl_pct, NEW.trailing_stop_state, NEW.exit_reason,
                      NEW.exit_priority, NEW.created_at, NEW.superseded_at, NEW.cost_basis, NEW.updated_at)))
  EXECUTE FUNCTION reject_version_rewrite();

-- Down Migration
DROP TRIGGER positions_versions_immutable ON positions;
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
