type Row = Record<string, unknown>;

/**
 * `rows` with every row that equals one of `previous` replaced by that one, so a UI re-renders only
 * what changed: the row at its position first, else one not kept yet with its `id` (several rows may
 * share an id: a join repeats its anchor's on every row); a row with no id only at its position.
 * `previous` itself when nothing changed.
 */
export function keepIdentity(previous: Row[] | undefined, rows: Row[]): Row[] {
  if (!previous) return rows;
  const out: Row[] = [];
  // At its position first: a result mostly changes little, and an unchanged one needs no index at
  // all. `moved` marks the rows left for matching by id (their position's previous row is free too).
  let moved: Uint8Array | undefined;
  for (let i = 0; i < rows.length; i++) {
    const before = previous[i];
    const row = rows[i]!;
    if (before !== undefined && samePlace(before, row)) out.push(before);
    else {
      out.push(row);
      (moved ??= new Uint8Array(rows.length))[i] = 1;
    }
  }
  if (!moved) return previous.length === rows.length ? previous : out;
  byId(previous, moved, out);
  return out;
}

/** Rows not kept at their position: matched to an equal previous row with their id, each kept once. */
function byId(previous: Row[], moved: Uint8Array, out: Row[]): void {
  // An id's previous rows not kept at their position: one index (ids are mostly unique), or a list.
  const left = new Map<unknown, number | number[]>();
  for (let j = 0; j < previous.length; j++) {
    const r = previous[j]!;
    if ((j < out.length && !moved[j]) || !hasId(r)) continue;
    const at = left.get(r.id);
    if (at === undefined) left.set(r.id, j);
    else if (typeof at === 'number') left.set(r.id, [at, j]);
    else at.push(j);
  }
  const used = new Uint8Array(previous.length);
  for (let i = 0; i < out.length; i++) {
    const row = out[i]!;
    if (!moved[i] || !hasId(row)) continue;
    const at = left.get(row.id);
    if (at === undefined) continue;
    if (typeof at === 'number') {
      if (used[at] || !deepEqual(previous[at], row)) continue;
      out[i] = previous[at]!;
      used[at] = 1;
    } else {
      const k = at.findIndex((j) => deepEqual(previous[j], row));
      if (k >= 0) out[i] = previous[at.splice(k, 1)[0]!]!;
    }
  }
}

const hasId = (r: Row): r is Row & { id: string | number } => typeof r.id === 'string' || typeof r.id === 'number';

/** deepEqual(a, b), rejecting at once two rows whose ids differ (a result shifted by one row, say). */
function samePlace(a: Row, b: Row): boolean {
  if (a.id !== b.id && typeof a.id !== 'object') return false;
  return deepEqual(a, b);
}

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
