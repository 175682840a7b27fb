-- Up Migration
-- Server-side timeouts as defaults of the role that runs the migrations. In AWS that is the
-- generated master user `precog` (infra/database.ts), whose secret every function also uses, so
-- the functions get them too; locally and in tests it is `postgres`. They cannot travel in the
-- connection's startup packet (pg's statement_timeout option): RDS Proxy refuses every startup
-- parameter but a few. A role default is applied by the server itself when a session starts, so
-- it holds behind any proxy, pins nothing, and applies to every statement, in a transaction or not.
-- New sessions only: the proxy's open server connections keep the old values until recycled.
-- Code that needs another value sets it for its transaction (set_config(…, true)).
--
-- statement_timeout: no statement runs longer than a function's slice of work should.
-- lock_timeout: a statement waiting on a lock fails clearly (55P03) before the statement timeout.
-- idle_in_transaction_session_timeout: a transaction left open by a killed or frozen invocation
--   releases its locks; above the longest venue call made inside a transaction (about 45 s
--   with retries) and every function's timeout but migrate's (which does not idle).
ALTER ROLE CURRENT_USER SET statement_timeout = '30s';
ALTER ROLE CURRENT_USER SET lock_timeout = '20s';
ALTER ROLE CURRENT_USER SET idle_in_transaction_session_timeout = '2min';

-- Down Migration
ALTER ROLE CURRENT_USER RESET idle_in_transaction_session_timeout;
ALTER ROLE CURRENT_USER RESET lock_timeout;
ALTER ROLE CURRENT_USER RESET statement_timeout;
