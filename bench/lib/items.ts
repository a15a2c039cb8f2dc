import { encodeCsv } from '../../src/store/kuzu/csv.js';

/**
 * The rows every scenario writes: one node label, a number and a short string, so ours and the raw
 * baselines write byte-for-byte the same data. Our planner sorts property keys, so the product's
 * table has the same column order as ITEM_DDL.
 */
export interface Item {
  id: string;
  k: number;
  name: string;
}

export const ITEM_LABEL = 'Item';
export const ITEM_DDL = 'CREATE NODE TABLE Item(id STRING, k DOUBLE, name STRING, PRIMARY KEY(id))';

/** `k` is fractional on purpose: an integral JS number would bind as INT64, the product stores DOUBLE. */
export const item = (i: number, prefix = 'n'): Item => ({ id: `${prefix}-${i}`, k: i + 0.5, name: `item ${i}` });

export const items = (count: number, offset = 0, prefix = 'n'): Item[] =>
  Array.from({ length: count }, (_, i) => item(offset + i, prefix));

export const itemProps = (it: Item) => ({ k: it.k, name: it.name });

/** CSV for COPY/LOAD, written by the product's own encoder. */
export const itemsCsv = (rows: readonly Item[]): string =>
  encodeCsv(
    rows.map((r) => [r.id, r.k, r.name]),
    ['STRING', 'DOUBLE', 'STRING'],
    'copy',
  );
