/** UTC calendar months as the archive names them (`YYYY-MM`, the tape layout's file names). */

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

export function isMonth(value: string): boolean {
  return MONTH.test(value);
}

/** The first instant of a `YYYY-MM` month (UTC); throws naming the value when malformed. */
export function monthStart(month: string): Date {
  const m = MONTH.exec(month);
  if (!m) throw new RangeError(`"${month}" is not a month (expected YYYY-MM, e.g. 2025-03)`);
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1));
}

export function monthOf(date: Date): string {
  return `${date.getUTCFullYear().toString().padStart(4, '0')}-${(date.getUTCMonth() + 1).toString().padStart(2, '0')}`;
}

/** `date` moved by whole UTC calendar months (to the first of its month). */
export function addMonths(date: Date, months: number): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + months, 1));
}

/** The months from `from` to `to`, both included. */
export function monthsBetween(from: string, to: string): string[] {
  const months: string[] = [];
  for (let d = monthStart(from), end = monthStart(to); d <= end; d = addMonths(d, 1)) months.push(monthOf(d));
  return months;
}

/** The month a [from, to) range covers exactly, or null when it is not one whole UTC month. */
export function exactMonth(from: Date, to: Date): string | null {
  const start = addMonths(from, 0);
  if (start.getTime() !== from.getTime() || addMonths(from, 1).getTime() !== to.getTime()) return null;
  return monthOf(from);
}

/** The first instant that is no longer hot: partitions ending at or before it are archived. */
export function hotWindowStart(now: Date, hotMonths: number): Date {
  return addMonths(now, -hotMonths);
}
