import type { ColumnType, Props, Value } from './types.js';
import { identifierProblem } from './identifiers.js';

export const MAX_STRING_LENGTH = 1 << 20;
export const MAX_ARRAY_LENGTH = 10_000;
export const MAX_PROPERTIES = 256;

/**
 * Why `v` is not a storable value, or null when it is. Numbers must be finite; arrays must be
 * flat and of one element type (Kuzu returns garbage for mixed lists, silently).
 */
export function valueProblem(v: unknown): string | null {
  switch (typeof v) {
    case 'string':
      if (v.length > MAX_STRING_LENGTH) return `string longer than ${MAX_STRING_LENGTH} characters`;
      // Kuzu stores UTF-8: a lone surrogate would come back as U+FFFD, a different value.
      return v.isWellFormed() ? null : 'string holds a lone surrogate (not valid Unicode)';
    case 'number':
      return Number.isFinite(v) ? null : `number ${String(v)} is not finite`;
    case 'boolean':
      return null;
    case 'object': {
      if (v === null) return 'null is only allowed as the value of set_property (it removes the property)';
      if (!Array.isArray(v)) {
        return 'objects are not values: use a string, number, boolean or a flat array of one of them';
      }
      if (v.length > MAX_ARRAY_LENGTH) return `array longer than ${MAX_ARRAY_LENGTH} elements`;
      if (v.length === 0) return null;
      const kind = typeof v[0];
      if (kind !== 'string' && kind !== 'number' && kind !== 'boolean') {
        return 'array elements must be strings, numbers or booleans';
      }
      for (const e of v) {
        if (typeof e !== kind) return 'array elements must all have one type';
        const p = valueProblem(e);
        if (p) return p;
      }
      return null;
    }
    default:
      return `${typeof v} is not a value`;
  }
}

/** -0 has no JSON spelling; storing it locally would make this client differ from the server. */
export function normalizeValue<T extends Value>(v: T): T {
  if (typeof v === 'number' && Object.is(v, -0)) return 0 as T;
  if (Array.isArray(v) && typeof v[0] === 'number') {
    return (v as number[]).map((x) => (Object.is(x, -0) ? 0 : x)) as T;
  }
  return v;
}

/** The column type a value asks for; an empty array asks for none in particular. */
export function columnTypeOf(v: Value): ColumnType | null {
  if (typeof v === 'string') return 'STRING';
  if (typeof v === 'number') return 'DOUBLE';
  if (typeof v === 'boolean') return 'BOOLEAN';
  if (v.length === 0) return null;
  const t = typeof v[0];
  return t === 'string' ? 'STRING[]' : t === 'number' ? 'DOUBLE[]' : 'BOOLEAN[]';
}

/** Type of a brand-new column created by an empty array: STRING[] is the common case. */
export const EMPTY_ARRAY_COLUMN: ColumnType = 'STRING[]';

export function fitsColumn(v: Value, type: ColumnType): boolean {
  const t = columnTypeOf(v);
  return t === null ? type.endsWith('[]') : t === type;
}

const TYPE_WORDS: Record<ColumnType, string> = {
  STRING: 'a string',
  DOUBLE: 'a number',
  BOOLEAN: 'a boolean',
  'STRING[]': 'a list of strings',
  'DOUBLE[]': 'a list of numbers',
  'BOOLEAN[]': 'a list of booleans',
};

/** A column type in words, for error messages people read. */
export function describeColumn(type: ColumnType): string {
  return `${TYPE_WORDS[type] ?? type} (${type})`;
}

export function describeType(v: Value): string {
  const t = columnTypeOf(v);
  return t ? TYPE_WORDS[t] : 'an empty list';
}

/** Why `props` is not a property map, or null. */
export function propsProblem(props: unknown): { message: string; code: 'invalid_identifier' | 'invalid_value' } | null {
  if (typeof props !== 'object' || props === null || Array.isArray(props)) {
    return { code: 'invalid_value', message: 'properties must be an object' };
  }
  const keys = Object.keys(props);
  if (keys.length > MAX_PROPERTIES) return { code: 'invalid_value', message: `more than ${MAX_PROPERTIES} properties` };
  const seen = new Set<string>();
  for (const key of keys) {
    const p = identifierProblem(key, 'property key');
    if (p) return { code: 'invalid_identifier', message: p };
    // Kuzu folds case: `name` and `Name` would be one column written twice.
    const folded = key.toLowerCase();
    if (seen.has(folded)) {
      const message = `property keys ${JSON.stringify(key)} differ only in case from another key`;
      return { code: 'invalid_identifier', message };
    }
    seen.add(folded);
    const vp = valueProblem((props as Record<string, unknown>)[key]);
    if (vp) return { code: 'invalid_value', message: `property ${key}: ${vp}` };
  }
  return null;
}

export function normalizeProps(props: Props): Props {
  const out: Props = {};
  for (const [k, v] of Object.entries(props)) out[k] = normalizeValue(v);
  return out;
}
