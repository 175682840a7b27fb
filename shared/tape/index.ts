/**
 * Tapes: what Precog saw, as Parquet files plus a manifest (docs/tape.md). The backtest replays
 * them; the archive (issue 20) writes the same layout to S3, so an archive is replayable.
 */
export { describeTable, type ColumnKind, type ColumnSpec } from './columns';
export {
  exportTableFile, readTableFile, openTableFile, insertRowsExact, sha256Hex, TapeFileError, DEFAULT_BATCH_ROWS,
  type ExportTableOptions, type TableFile, type OpenedTableFile,
} from './codec';
export { DirectoryStore, S3Store, isEmptyOrMissingDirectory, type ArchiveStore } from './store';
export {
  ManifestSchema, MANIFEST_KEY, TapeError, parseManifest, readManifest, tapeId, monthsOverlapping, monthBounds, canonicalJson,
  type Manifest, type ManifestFile, type ManifestTable,
} from './manifest';
export { TAPE_TABLES, writeTape, openTape, importTape, EmptyWindowError, type TapeWindow, type TapeEvent, type OpenedTape, type ImportTapeOptions } from './tape';
export { microsToIso, isoToMicros, type TapeRow, type TapeValue } from './values';
