/** How old a piece of ingested data is, in seconds; never ingested is infinitely old. */
export function dataAgeSeconds(now: Date, at: Date | null): number {
  return at === null ? Number.POSITIVE_INFINITY : (now.getTime() - at.getTime()) / 1000;
}

/** "42 s ago", or "never" for data never ingested: the wording of every staleness reason. */
export function describeAge(seconds: number): string {
  return Number.isFinite(seconds) ? `${Math.round(seconds)} s ago` : 'never';
}
