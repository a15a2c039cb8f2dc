type Row = Record<string, unknown>;

/**
 * `rows` with every row that equals its predecessor replaced by that predecessor (matched by `id`
 * where a row has one, else by position); `previous` itself when nothing changed.
 */
export function keepIdentity(previous: Row[] | undefined, rows: Row[]): Row[] {
  if (!previous) return rows;
  const byId = new Map<unknown, Row>();
  for (const r of previous) if (hasId(r)) byId.set(r.id, r);
  let same = previous.length === rows.length;
  const out = rows.map((row, i) => {
    const before = hasId(row) ? byId.get(row.id) : hasId(previous[i] ?? {}) ? undefined : previous[i];
    const kept = before !== undefined && deepEqual(before, row) ? before : row;
    if (kept !== previous[i]) same = false;
    return kept;
  });
  return same ? previous : out;
}

const hasId = (r: Row): r is Row & { id: string | number } => typeof r.id === 'string' || typeof r.id === 'number';

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (!deepEqual((a as Row)[k], (b as Row)[k])) return false;
  return true;
}
