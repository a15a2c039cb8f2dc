/**
 * Cypher text with its comments gone and every string literal emptied (`''`): what is left can be
 * scanned for patterns and parameters without mistaking a string's contents for either.
 */
export const withoutLiterals = (cypher: string): string =>
  cypher.replace(/\/\/[^\n]*|\/\*[\s\S]*?\*\//g, ' ').replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, "''");

/**
 * A `$parameter` the query uses (not in a string, a comment or a `quoted name`) that `params` gives
 * no value. Kuzu binds it as NULL: a misspelt name would just match nothing.
 */
export function missingParameter(cypher: string, params: Record<string, unknown>): string | undefined {
  const text = withoutLiterals(cypher).replace(/`[^`]*`/g, ' ');
  for (const m of text.matchAll(/\$([A-Za-z_]\w*)/g)) if (params[m[1]!] === undefined) return m[1];
  return undefined;
}
