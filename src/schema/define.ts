import { SyncError } from '../protocol/errors.js';
import { identifierProblem } from '../protocol/identifiers.js';
import type { ColumnType, GraphSchema, Props, Value } from '../protocol/types.js';

/** A property's type as a schema declares it: the JavaScript value it holds. */
export type PropertyType = 'string' | 'number' | 'boolean' | 'string[]' | 'number[]' | 'boolean[]';
export type PropertiesDef = { readonly [key: string]: PropertyType };
/** One end of an edge label: a node label, or several. */
type Ends<N extends string> = N | readonly N[];
export interface EdgeDef<N extends string = string> {
  readonly from: Ends<N>;
  readonly to: Ends<N>;
  readonly properties?: PropertiesDef;
}
/** What `defineSchema` takes and returns: node labels with their properties, edge labels with their ends. */
export interface SchemaDef<N extends string = string> {
  readonly nodes: { readonly [label in N]: PropertiesDef };
  readonly edges?: { readonly [label: string]: EdgeDef<N> };
}

const COLUMN_OF: Record<PropertyType, ColumnType> = {
  string: 'STRING',
  number: 'DOUBLE',
  boolean: 'BOOLEAN',
  'string[]': 'STRING[]',
  'number[]': 'DOUBLE[]',
  'boolean[]': 'BOOLEAN[]',
};

/**
 * Declares the graph's labels and property types, checked at once, for the server's `schema` option
 * and the client's. Its TypeScript type carries every label and property, so a client created with
 * it refuses `createNode('Person', { age: 'x' })` at compile time.
 */
export function defineSchema<
  const Nodes extends { readonly [label: string]: PropertiesDef },
  const Edges extends { readonly [label: string]: EdgeDef<keyof Nodes & string> } = Record<never, never>,
>(def: { nodes: Nodes; edges?: Edges }): { readonly nodes: Nodes; readonly edges: Edges } {
  graphSchemaOf(def as SchemaDef);
  return Object.freeze({ nodes: def.nodes, edges: def.edges ?? ({} as Edges) });
}

/**
 * The schema as the wire and the store know it (Kuzu column types, edge ends as FROM/TO pairs).
 * Throws a typed error on anything malformed: a bad name, a name used twice (Kuzu folds case), an
 * unknown type, an edge end that is not a declared node label.
 */
export function graphSchemaOf(def: SchemaDef): GraphSchema {
  const fail = (code: 'invalid_identifier' | 'invalid_value', message: string): never => {
    throw new SyncError(code, `schema: ${message}`);
  };
  if (typeof def !== 'object' || def === null || typeof def.nodes !== 'object' || def.nodes === null) {
    fail('invalid_value', 'expected { nodes: { Label: { key: type } }, edges?: { LABEL: { from, to } } }');
  }
  // A misspelt key (`edge`, `props`) would otherwise declare nothing, silently: a schema from a JSON
  // file has no compiler to catch it. Keys starting with $ are a JSON file's own (`$schema`, `$comment`).
  const only = (where: string, value: object, keys: readonly string[]) => {
    const extra = Object.keys(value).find((k) => !keys.includes(k) && !k.startsWith('$'));
    if (extra !== undefined)
      fail('invalid_value', `${where}: unknown key ${JSON.stringify(extra)} (expected ${keys.join(', ')})`);
  };
  only('the schema', def, ['nodes', 'edges']);
  const names = new Map<string, string>();
  const name = (label: string, what: string) => {
    const problem = identifierProblem(label, 'label');
    if (problem) fail('invalid_identifier', problem);
    const before = names.get(label.toLowerCase());
    if (before !== undefined) fail('invalid_identifier', `${what} ${JSON.stringify(label)} clashes with ${before}`);
    names.set(label.toLowerCase(), `${what} ${JSON.stringify(label)}`);
  };
  const columns = (owner: string, props: unknown): Record<string, ColumnType> => {
    if (props === undefined) return {};
    if (typeof props !== 'object' || props === null || Array.isArray(props)) {
      return fail('invalid_value', `${owner}: properties must be an object of key: type`);
    }
    const out: Record<string, ColumnType> = {};
    const seen = new Set<string>();
    for (const [key, type] of Object.entries(props)) {
      const problem = identifierProblem(key, 'property key');
      if (problem) fail('invalid_identifier', `${owner}: ${problem}`);
      if (seen.has(key.toLowerCase())) fail('invalid_identifier', `${owner}: ${key} is declared twice (case folds)`);
      seen.add(key.toLowerCase());
      if (typeof type !== 'string' || !Object.hasOwn(COLUMN_OF, type)) {
        fail('invalid_value', `${owner}.${key}: type must be one of ${Object.keys(COLUMN_OF).join(', ')}`);
      }
      out[key] = COLUMN_OF[type as PropertyType];
    }
    return out;
  };
  const nodes = Object.entries(def.nodes).map(([label, props]) => {
    name(label, 'node label');
    return { label, properties: columns(label, props) };
  });
  const nodeLabels = new Set(nodes.map((n) => n.label));
  const ends = (label: string, side: 'from' | 'to', value: unknown): string[] => {
    const list = typeof value === 'string' ? [value] : Array.isArray(value) ? (value as unknown[]) : [];
    if (list.length === 0) fail('invalid_value', `edge ${label}: ${side} must be a node label or a list of them`);
    for (const end of list) {
      if (typeof end !== 'string' || !nodeLabels.has(end))
        fail('invalid_value', `edge ${label}: ${side} ${JSON.stringify(end)} is not a declared node label`);
    }
    return [...new Set(list as string[])];
  };
  const edges = Object.entries(def.edges ?? {}).map(([label, edge]) => {
    name(label, 'edge label');
    if (typeof edge !== 'object' || edge === null) return fail('invalid_value', `edge ${label}: expected { from, to }`);
    only(`edge ${label}`, edge, ['from', 'to', 'properties']);
    const from = ends(label, 'from', edge.from);
    const to = ends(label, 'to', edge.to);
    const pairs = from.flatMap((f) => to.map((t): [string, string] => [f, t]));
    return { label, pairs, properties: columns(label, edge.properties) };
  });
  return { nodes, edges };
}

// ---- the types a schema gives a client -----------------------------------------------------------

type ValueOf<T> = T extends 'string'
  ? string
  : T extends 'number'
    ? number
    : T extends 'boolean'
      ? boolean
      : T extends 'string[]'
        ? string[]
        : T extends 'number[]'
          ? number[]
          : T extends 'boolean[]'
            ? boolean[]
            : never;
/** Every property is optional: a node or edge holds the ones it was given. */
type PropsOf<P> = { [K in keyof P]?: ValueOf<P[K]> };
type EdgesOf<S extends SchemaDef> = NonNullable<S['edges']>;
/** An edge label's declared properties; none when it declares none (not any: the constraint's). */
type EdgePropsDef<E> = E extends { readonly properties: infer P } ? P : {};

/** With no schema (`undefined`), any valid label, key and value, checked at run time. */
export type NodeLabel<S extends SchemaDef | undefined> = S extends SchemaDef ? keyof S['nodes'] & string : string;
export type NodeProps<S extends SchemaDef | undefined, L extends string> = S extends SchemaDef
  ? PropsOf<S['nodes'][L]>
  : Props;
export type EdgeLabel<S extends SchemaDef | undefined> = S extends SchemaDef ? keyof EdgesOf<S> & string : string;
export type EdgeProps<S extends SchemaDef | undefined, L extends string> = S extends SchemaDef
  ? keyof EdgePropsDef<EdgesOf<S>[L]> extends never
    ? Record<string, never>
    : PropsOf<EdgePropsDef<EdgesOf<S>[L]>>
  : Props;
type AnyPropsOf<S extends SchemaDef> = S['nodes'][keyof S['nodes']] | EdgePropsDef<EdgesOf<S>[keyof EdgesOf<S>]>;
/** Distributes over the label's property sets: the types `key` has wherever it is declared. */
type ValueIn<P, K extends PropertyKey> = P extends { readonly [k in K]: infer T } ? ValueOf<T> : never;
/** What `setProperty` may store under `key`: a type it has on some label. */
export type PropertyValue<S extends SchemaDef | undefined, K extends string> = S extends SchemaDef
  ? ValueIn<AnyPropsOf<S>, K>
  : Value;
/** `setProperty` names no label: any key the schema declares anywhere. */
export type PropertyKeyOf<S extends SchemaDef | undefined> = S extends SchemaDef
  ?
      | { [L in keyof S['nodes']]: keyof S['nodes'][L] }[keyof S['nodes']]
      | { [L in keyof EdgesOf<S>]: keyof EdgePropsDef<EdgesOf<S>[L]> }[keyof EdgesOf<S>]
  : string;
