import { withoutLiterals } from '../store/cypher-text.js';
import type { TablesTouched } from '../store/tables-touched.js';

/**
 * The tables a Cypher read depends on, from the labels in its patterns: `(p:Person)`,
 * `(:A:B)`, `-[r:KNOWS|LIKES*1..2]->`. A pattern with no label (`(n)`, `-->`, `-[r]-`) depends on
 * every table, and so does anything this reading does not follow (`CALL`, a label test in WHERE);
 * a query with no pattern (`RETURN 1`) depends on none. Labels are lower-cased: Kuzu's tables are
 * case-insensitive. Over-reading only costs a re-run that finds the same rows; under-reading would
 * leave a live query stale, so every doubt reads as 'all'.
 */
export function tablesRead(cypher: string): TablesTouched {
  // Strings, comments and backquoted names must not be read as patterns.
  const text = withoutLiterals(cypher);
  if (/`/.test(text) || /\b(CALL|LOAD|PROJECT_GRAPH)\b/i.test(text)) return 'all';
  // A label test outside a pattern (WHERE n:Person) is a label this reading cannot tie to a pattern.
  if (/\b(WHERE|AND|OR|NOT)\s+[A-Za-z_]\w*\s*:/i.test(text)) return 'all';
  const tables = new Set<string>();
  // Parentheses not right after a name (that is a call: count(p)) holding a node pattern: a
  // variable, labels (`:A:B` or `:A|B`), properties. Anything else inside is an expression.
  for (const m of text.matchAll(/(^|[^\w$])\(([^()]*)\)/g)) {
    const inner = m[2]!.trim();
    const shape = /^([A-Za-z_]\w*)?\s*(:[^{]*)?(\{[\s\S]*\})?$/.exec(inner);
    if (!shape) continue;
    const labels = labelsOf(shape[2] ?? '');
    if (labels.length) {
      for (const l of labels) tables.add(l);
      continue;
    }
    // `(n)` may be a parenthesised expression of a name; only a pattern position makes it a node.
    const at = m.index + m[1]!.length;
    if (isPatternPosition(text, at, m[0].length - m[1]!.length)) return 'all';
  }
  // Relationship patterns: `-[...]-` with labels, or a bare `--`, `-->`, `<--`.
  for (const m of text.matchAll(/-\s*\[([^\]]*)\]\s*-/g)) {
    const inner = (m[1] ?? '').replace(/\*[\d.\s]*/, '').replace(/\{[^}]*\}/, '');
    const labels = inner.includes(':') ? labelsOf(inner.slice(inner.indexOf(':') + 1)) : [];
    if (!labels.length) return 'all';
    for (const l of labels) tables.add(l);
  }
  if (/\)\s*<?-\s*-\s*>?\s*\(/.test(text)) return 'all';
  return tables;
}

/** The labels of `:A:B`, `:A|B` or `A|:B`, lower-cased; none when something else is there. */
function labelsOf(part: string): string[] {
  const names = part.split(/[:|]/).map((n) => n.trim());
  if (names[0] === '') names.shift();
  if (!names.length || !names.every((n) => /^[A-Za-z_]\w*$/.test(n))) return [];
  return names.map((n) => n.toLowerCase());
}

/** True when the parenthesised name at `at` stands where a pattern does: after MATCH, a comma, or next to an edge. */
function isPatternPosition(text: string, at: number, length: number): boolean {
  const before = text.slice(0, at).trimEnd();
  const after = text.slice(at + length).trimStart();
  return /(\bMATCH|,|-|>|<)$/i.test(before) || /^(-|<)/.test(after);
}
