export type QueryErrorCode = 'query_syntax' | 'query_failed' | 'unknown_label' | 'unknown_property';

/**
 * A user query failed. `unknown_label` and `unknown_property`: it names a label or property this
 * replica has not seen yet (another replica may have); `query_syntax`: Cypher's parser refused it;
 * `query_failed`: anything else (a write in a read, a bad parameter, a variable out of scope).
 */
export class QueryError extends Error {
  override readonly name = 'QueryError';
  constructor(
    message: string,
    readonly code: QueryErrorCode = 'query_failed',
  ) {
    super(message);
  }

  /** From Kuzu's own text, which is not an API: the codes are. */
  static fromKuzu(message: string): QueryError {
    const table = /^Binder exception: Table (\S+) does not exist/.exec(message);
    if (table) return new QueryError(`no label ${table[1]} in this replica (yet)`, 'unknown_label');
    const prop = /^Binder exception: Cannot find property (\S+) for (\S+?)\.?$/.exec(message);
    if (prop)
      return new QueryError(`no property ${prop[1]} on ${prop[2]}'s label in this replica (yet)`, 'unknown_property');
    return new QueryError(message, /^Parser exception/.test(message) ? 'query_syntax' : 'query_failed');
  }
}
