import type { ErrorCode } from './types.js';

/**
 * A small schema combinator set: each wire shape is written once, its TypeScript type is inferred
 * from it, and the same value checks it on the way in. Measured against valibot, zod 4 and the old
 * hand-written decoder (bench/decode.ts): closures over plain loops, no `new Function` (a browser
 * with a strict CSP forbids it), no per-check allocation on success.
 */

/** Why a value does not fit, with the stable code the peer gets. */
export interface Issue {
  code: ErrorCode;
  message: string;
}

export interface Schema<T, Optional extends boolean = false> {
  /** Why `value` does not fit, or null. `parent` is the object holding it, for checks across fields. */
  readonly check: (value: unknown, parent?: Record<string, unknown>) => Issue | null;
  /** A copy of a value that passed `check`: declared fields only, leaves normalised. */
  readonly clean: (value: T) => T;
  /** May be absent from its object. */
  readonly optional: Optional;
  /** Type only: never set. */
  readonly type?: T;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnySchema = Schema<any, boolean>;
export type Infer<S> = S extends Schema<infer T, boolean> ? T : never;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
type Fields = Record<string, AnySchema>;
type OptionalKeys<F extends Fields> = { [K in keyof F]: F[K]['optional'] extends true ? K : never }[keyof F];
export type ObjectOf<F extends Fields> = Simplify<
  { [K in Exclude<keyof F, OptionalKeys<F>>]: Infer<F[K]> } & { [K in OptionalKeys<F>]?: Infer<F[K]> }
>;

const same = <T>(v: T): T => v;
const bad = (message: string): Issue => ({ code: 'bad_message', message });

/** A leaf: its own check, optionally a normaliser for `clean`. */
export function leaf<T>(check: Schema<T>['check'], clean: (value: T) => T = same): Schema<T> {
  return { check, clean, optional: false };
}

export function optional<T>(schema: Schema<T>): Schema<T, true> {
  return { ...schema, optional: true };
}

/** Absent is fine, and `clean` fills in `fallback`: the field is required in the type. */
export function withDefault<T>(schema: Schema<T>, fallback: () => NoInfer<T>): Schema<T> {
  return {
    check: (v, parent) => (v === undefined ? null : schema.check(v, parent)),
    clean: (v) => (v === undefined ? fallback() : schema.clean(v)),
    optional: false,
  };
}

/** The same check, with every issue under it reported as `code`. */
export function recode<T, O extends boolean>(code: ErrorCode, schema: Schema<T, O>): Schema<T, O> {
  return {
    ...schema,
    check: (v, parent) => {
      const issue = schema.check(v, parent);
      return issue && { code, message: issue.message };
    },
  };
}

export function oneOf<const T extends readonly (string | number | boolean)[]>(
  values: T,
  problem: (v: unknown) => Issue,
): Schema<T[number]> {
  return leaf((v) => (values.includes(v as T[number]) ? null : problem(v)));
}

export interface ArrayOptions {
  /** What one element is called in messages: `op 3: ...`. */
  item: string;
  /** Fewer is malformed: `bad_message`. */
  min?: number;
  max?: number;
  /** Code of more than `max`: well-formed but too much. */
  maxCode?: ErrorCode;
}

export function array<T>(item: Schema<T>, options: ArrayOptions): Schema<T[]> {
  const { min = 0, max = Infinity, maxCode = 'bad_message' } = options;
  const what = `${options.item}s`;
  return leaf(
    (v) => {
      if (!Array.isArray(v)) return { code: 'bad_message', message: `${what} must be an array` };
      if (v.length < min) return { code: 'bad_message', message: `${what} must hold at least ${min}` };
      if (v.length > max) return { code: maxCode, message: `more than ${max} ${what}` };
      for (let i = 0; i < v.length; i++) {
        const issue = item.check(v[i]);
        if (issue) return { code: issue.code, message: `${options.item} ${i}: ${issue.message}` };
      }
      return null;
    },
    (v) => (item.clean === same ? v.slice() : v.map(item.clean)),
  );
}

export function tuple<A, B>(a: Schema<A>, b: Schema<B>, what: string): Schema<[A, B]> {
  return leaf(
    (v) => (Array.isArray(v) && v.length === 2 ? (a.check(v[0]) ?? b.check(v[1])) : bad(what)),
    (v) => [a.clean(v[0]), b.clean(v[1])],
  );
}

/**
 * The hand-tuned fast path of a hot schema. `accepts` may only say yes to what `schema` accepts
 * (no says nothing: the schema then checks and words the issue); `clean` must equal the schema's.
 * test/protocol/schema.test.ts holds both to that on the fuzz corpus and the hot messages.
 */
export interface FastPath<T> {
  accepts: (value: unknown) => boolean;
  clean?: (value: T) => T;
}

export function withFastPath<T>(
  schema: Schema<T>,
  fast: FastPath<T>,
): Schema<T> & { general: Schema<T>; fast: FastPath<T> } {
  return {
    check: (v, parent) => (fast.accepts(v) ? null : schema.check(v, parent)),
    clean: fast.clean ?? schema.clean,
    optional: false,
    general: schema,
    fast,
  };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A map of any keys to one kind of value. */
export function record<T>(key: Schema<string>, value: Schema<T>, what: string): Schema<Record<string, T>> {
  return leaf((v) => {
    if (!isRecord(v)) return { code: 'bad_message', message: `${what} must be an object` };
    for (const k in v) {
      const issue = key.check(k) ?? value.check(v[k]);
      if (issue) return issue;
    }
    return null;
  });
}

/**
 * An object with the given fields, checked in their order (earlier fields may be read by later
 * checks through `parent`). Unknown fields are allowed in and dropped by `clean`. An issue of a
 * field is prefixed with `name field:` (nothing for an empty name); a missing required field is
 * checked as `undefined`, so each field says itself what its absence means.
 */
export function object<F extends Fields>(name: string, fields: F): Schema<ObjectOf<F>> {
  const keys = Object.keys(fields);
  const prefixes = keys.map((k) => (name ? `${name} ${k}: ` : ''));
  const schemas = keys.map((k) => fields[k]!);
  const n = keys.length;
  return leaf(
    (v) => {
      if (!isRecord(v)) return { code: 'bad_message', message: `${name} must be an object` };
      for (let i = 0; i < n; i++) {
        const x = v[keys[i]!];
        const s = schemas[i]!;
        if (x === undefined && s.optional) continue;
        const issue = s.check(x, v);
        if (issue) return { code: issue.code, message: prefixes[i] + issue.message };
      }
      return null;
    },
    (v) => {
      const out: Record<string, unknown> = {};
      const src = v as Record<string, unknown>;
      for (let i = 0; i < n; i++) {
        const x = src[keys[i]!];
        if (x !== undefined || !schemas[i]!.optional) out[keys[i]!] = schemas[i]!.clean(x);
      }
      return out as ObjectOf<F>;
    },
  );
}

/**
 * A union told apart by the string field `key`: the check of the one variant its value names.
 * A value naming none gets `unknown(tag)`.
 */
export function variants<K extends string, V extends Record<string, AnySchema>>(
  key: K,
  cases: V,
  unknown: (tag: unknown) => Issue,
): Schema<Infer<V[keyof V]>> {
  // A scan, not a Map: a tag fresh from JSON.parse would be hashed on every lookup, and a scan of a
  // handful of tags that mostly differ in length measured faster.
  const tags = Object.keys(cases);
  const schemas = tags.map((t) => cases[t]!);
  const find = (tag: unknown): AnySchema | undefined => {
    for (let i = 0; i < tags.length; i++) if (tags[i] === tag) return schemas[i];
    return undefined;
  };
  return leaf(
    (v) => {
      if (!isRecord(v)) return { code: 'bad_message', message: `must be an object with a ${key}` };
      const s = find(v[key]);
      return s ? s.check(v) : unknown(v[key]);
    },
    (v) => find((v as Record<K, unknown>)[key])!.clean(v),
  );
}
