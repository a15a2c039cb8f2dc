/**
 * What in Cypher text is not code, in one left-to-right pass (a `//` inside a string is no comment,
 * an apostrophe inside a quoted name starts no string): comments, string literals, quoted names.
 */
const LITERALS = /\/\/[^\n]*|\/\*[\s\S]*?\*\/|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|`[^`]*`/g;

/**
 * Cypher text with its comments gone and every string literal emptied (`''`); quoted names are kept,
 * or blanked with `names: 'blank'`. What is left can be scanned for patterns and parameters without
 * mistaking what a literal holds for either.
 */
export const withoutLiterals = (cypher: string, names: 'keep' | 'blank' = 'keep'): string =>
  cypher.replace(LITERALS, (m) => (m[0] === '`' ? (names === 'keep' ? m : ' ') : m[0] === '/' ? ' ' : "''"));

/**
 * A `$parameter` the query uses (not in a string, a comment or a quoted name) that `params` gives
 * no value. Kuzu binds it as NULL: a misspelt name would just match nothing.
 */
export function missingParameter(cypher: string, params: Record<string, unknown>): string | undefined {
  for (const m of withoutLiterals(cypher, 'blank').matchAll(/\$([A-Za-z_]\w*)/g))
    if (!Object.hasOwn(params, m[1]!) || params[m[1]!] === undefined) return m[1];
  return undefined;
}
