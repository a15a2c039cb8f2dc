import type { RowValue, StepColumnType } from './steps.js';

/**
 * Writes rows as CSV for Kuzu's `LOAD WITH HEADERS (...) FROM` and `COPY ... FROM`, and says which
 * rows a CSV cannot carry faithfully; those go through parameters instead. Facts measured on
 * kuzu-wasm 0.11.3:
 * - "" and an empty field both read as NULL unless NULL_STRINGS is set; NULL_STRINGS applies to
 *   quoted fields too, so a string equal to the sentinel cannot travel by CSV.
 * - LOAD FROM honours NULL_STRINGS in STRING columns only: in any other (numbers, booleans, lists)
 *   the sentinel fails the cast, and an empty field reads as NULL (kuzu-wasm and the fork alike).
 * - COPY honours NULL_STRINGS in no column but strings (a number column fails on the sentinel): its
 *   CSV writes NULL as an empty field, so an empty string cannot travel by it.
 * - strings in a STRING[] are not unquoted, and ',' '[' ']' split them: only plain words are safe.
 * - NUL inside a field is not worth the risk; lone surrogates are refused before they get here.
 */
export const NULL_SENTINEL = '~kuzu-sync-null~';

const SAFE_LIST_WORD = /^[\p{L}\p{N}_.@:/+#-]+$/u;

/** Long fields go by parameter: Kuzu's CSV reader works in fixed-size buffers. */
const MAX_CSV_STRING = 16_384;

const safeString = (s: string): boolean =>
  s.length <= MAX_CSV_STRING && s !== NULL_SENTINEL && !s.includes('\u0000') && s.isWellFormed();

/** Which statement reads the file: they read NULL differently. */
export type CsvReader = 'load' | 'copy';

export function csvSafe(value: RowValue, type: StepColumnType, reader: CsvReader = 'load'): boolean {
  if (value === null) return true;
  if (typeof value === 'string') return safeString(value) && (reader === 'load' || value !== '');
  if (type === 'STRING[]') return (value as string[]).every((s) => SAFE_LIST_WORD.test(s) && s !== NULL_SENTINEL);
  return true;
}

const quote = (s: string): string => '"' + s.replace(/"/g, '""') + '"';

function field(value: RowValue, nullField: string): string {
  if (value === null) return nullField;
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return quote('[' + (value as Array<string | number | boolean>).map(String).join(',') + ']');
}

export function encodeCsv(rows: RowValue[][], columns: StepColumnType[], reader: CsvReader = 'load'): string {
  const nulls = columns.map((t) => (reader === 'load' && t === 'STRING' ? NULL_SENTINEL : ''));
  let out = '';
  for (const row of rows) out += row.map((v, i) => field(v, nulls[i]!)).join(',') + '\n';
  return out;
}

export function csvHeader(columns: StepColumnType[]): string {
  return columns.map((t, i) => `c${i} ${t}`).join(', ');
}
