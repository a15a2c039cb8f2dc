import type { ColumnType } from '../../protocol/types.js';

/**
 * kuzu-wasm hands back INT64 as `Number` objects, large integers as BigInt, and nodes and rels with
 * internal ids. Callers get plain values: numbers, strings, booleans, null, arrays and objects.
 */
const INTERNAL_KEYS = new Set(['_id', '_src', '_dst']);

export function normalizeKuzuValue(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case 'bigint':
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    case 'object': {
      if (v instanceof Number || v instanceof String || v instanceof Boolean) return v.valueOf();
      if (v instanceof Date) return v;
      if (Array.isArray(v)) return v.map(normalizeKuzuValue);
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) if (!INTERNAL_KEYS.has(k)) out[k] = normalizeKuzuValue(x);
      return out;
    }
    default:
      return v;
  }
}

export function normalizeRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k] = normalizeKuzuValue(v);
  return out;
}

/** Kuzu spells some types differently from how kuzu-sync writes them. */
export function kuzuType(t: string): ColumnType {
  const map: Record<string, ColumnType> = {
    STRING: 'STRING',
    DOUBLE: 'DOUBLE',
    BOOL: 'BOOLEAN',
    BOOLEAN: 'BOOLEAN',
    'STRING[]': 'STRING[]',
    'DOUBLE[]': 'DOUBLE[]',
    'BOOL[]': 'BOOLEAN[]',
    'BOOLEAN[]': 'BOOLEAN[]',
  };
  // A column of another type was made outside kuzu-sync; no value will fit it, and writes say so.
  return map[t] ?? (t as ColumnType);
}
