import { ProbabilityMatrixRepository, type MatrixImportResult } from '../../shared/db/repositories/probabilityMatrices';
import type { CommandContext } from './context';
import { readInputFile } from './usage';

export interface MatrixImportArgs {
  /** Path of the CSV file. */
  file: string;
  json?: boolean;
}

/**
 * `precog matrix import FILE [--json]`: imports one probability matrix version from a CSV file.
 * Throws MatrixImportError (every bad row, nothing written), MatrixVersionExistsError (the version
 * is already there: matrices are immutable); an unreadable file is a usage error.
 */
export async function matrixImport(ctx: CommandContext, args: MatrixImportArgs): Promise<MatrixImportResult> {
  const text = await readInputFile(args.file, 'matrix file');
  const result = await new ProbabilityMatrixRepository(ctx.pool).importCsv(text);
  if (args.json) {
    ctx.out(JSON.stringify({ file: args.file, ...result }));
  } else {
    ctx.out(`imported matrix ${result.category}/${result.subcategory} ${result.version}: ${result.cells} cells from ${args.file}`);
  }
  return result;
}
