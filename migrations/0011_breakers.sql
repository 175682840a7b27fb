-- Up Migration
-- D24 At most one open trip per automatic breaker type: a condition that keeps holding updates
-- nothing, and two checks racing cannot trip the same breaker twice. Manual trips are the
-- operator's and may stack (each with its own reason).
CREATE UNIQUE INDEX idx_circuit_breaker_events_open ON circuit_breaker_events (breaker_type)
  WHERE resolved_at IS NULL AND breaker_type <> 'manual';

-- Down Migration
DROP INDEX IF EXISTS idx_circuit_breaker_events_open;
