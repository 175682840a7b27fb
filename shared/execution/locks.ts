/**
 * The account's entry lock (a transaction-level advisory lock). An entry holds it from its last
 * look until its fills are recorded, so the limits it checked still hold when it commits;
 * reconciliation takes it while comparing positions, so it never sees an order the venue has
 * accepted but the books have not committed yet (which would look like a desync).
 * Single-key advisory locks do not collide with the two-key stripes of versionedUpsert.
 */
export const ENTRY_LOCK_KEY = 0x70726563; // "prec"
