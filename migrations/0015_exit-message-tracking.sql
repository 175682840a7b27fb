-- Up Migration
-- D25 Exit messages that are gone. An exit request's message can leave the exit-orders queue
-- without ending the request (its receives used up: the dead-letter queue). SQS cannot be asked
-- cheaply whether a message is still there, so the request records when its message was last seen:
-- `enqueued_at` (its last send) and `message_received_at` (its last receive by execute-exit).
-- A live message is received again within the queue's visibility timeout (a failed receive) or
-- the priority's wait (a walk); the monitor's sweep re-sends an active request whose message has
-- not been seen for longer than that, plus a margin. `message_receives` counts the receives of all
-- the request's messages: a re-sent message's first receive is a redelivery of the request (the
-- one before may have placed its attempt at the venue and died), so it looks for that attempt.
ALTER TABLE exit_requests
  ADD COLUMN message_received_at TIMESTAMPTZ,
  ADD COLUMN message_receives INT NOT NULL DEFAULT 0 CHECK (message_receives >= 0);
CREATE INDEX idx_exit_requests_active ON exit_requests (position_id) INCLUDE (enqueued_at, message_received_at) WHERE status = 'active';

-- D26 Edge alerts, one per edge: a scan writes a new version of an alert-worthy edge every minute
-- its figures move, and each used to be published (a mail a minute). The edge's identity records
-- when its alert went out; another is published only after an edge version that is not an alert
-- (the episode ended) or once the edge is gone. In the database, not in a container's memory:
-- many scan-edges containers share it.
ALTER TABLE edge_identities ADD COLUMN alert_sent_at TIMESTAMPTZ;
CREATE INDEX idx_edge_identities_alerted ON edge_identities (market_id, strategy_id, model_id, side) WHERE alert_sent_at IS NOT NULL;

-- Down Migration
DROP INDEX IF EXISTS idx_edge_identities_alerted;
ALTER TABLE edge_identities DROP COLUMN IF EXISTS alert_sent_at;
DROP INDEX IF EXISTS idx_exit_requests_active;
ALTER TABLE exit_requests DROP COLUMN IF EXISTS message_receives, DROP COLUMN IF EXISTS message_received_at;
