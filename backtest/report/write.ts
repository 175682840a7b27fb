import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { renderBacktestHtml } from './html';
import type { BacktestReport } from './types';

/**
 * Writes report.json (money as decimal strings) and the self-contained report.html into dir;
 * each file is written beside and renamed into place, so a reader never sees half a report.
 */
export async function writeBacktestReport(dir: string, report: BacktestReport): Promise<{ json: string; html: string }> {
  await mkdir(dir, { recursive: true });
  const json = path.join(dir, 'report.json');
  const html = path.join(dir, 'report.html');
  await writeFile(`${json}.tmp`, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(`${html}.tmp`, renderBacktestHtml(report));
  await rename(`${json}.tmp`, json);
  await rename(`${html}.tmp`, html);
  return { json, html };
}
