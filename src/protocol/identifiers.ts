import { SyncError } from './errors.js';

/**
 * Labels and property keys: letters first, then letters, digits and `_`; 64 characters at most.
 * Cypher keywords are fine (`order`, `from`, `type`, a label `Match`): every generated query quotes
 * names with backticks, and the pattern keeps backticks out of names.
 */
export const IDENTIFIER_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** Names kuzu-sync uses itself inside user tables. */
const RESERVED_PROPERTY_KEYS = new Set(['ID']);

/** Why `name` is not a valid label or key, or null when it is. */
export function identifierProblem(name: unknown, kind: 'label' | 'property key'): string | null {
  if (typeof name !== 'string') return `${kind} must be a string`;
  if (name.startsWith('_')) {
    return `${kind} ${JSON.stringify(name)} starts with '_', reserved for kuzu-sync's own tables`;
  }
  if (!IDENTIFIER_PATTERN.test(name)) {
    return `${kind} ${JSON.stringify(name.slice(0, 80))} must match ${IDENTIFIER_PATTERN}`;
  }
  // The decoder refuses these keys anywhere in a frame (prototype pollution): refused here too, a
  // write that uses one fails at once instead of being refused by the server after it is sent.
  if (name === 'constructor' || name === 'prototype') {
    return `${kind} ${JSON.stringify(name)} is not allowed (a JavaScript prototype key)`;
  }
  if (kind === 'property key' && RESERVED_PROPERTY_KEYS.has(name.toUpperCase())) {
    return `property key ${JSON.stringify(name)} is reserved: it is the primary key; pass ids with { id }`;
  }
  return null;
}

export function assertLabel(name: unknown): asserts name is string {
  const problem = identifierProblem(name, 'label');
  if (problem) throw new SyncError('invalid_identifier', problem);
}

export function assertPropertyKey(name: unknown): asserts name is string {
  const problem = identifierProblem(name, 'property key');
  if (problem) throw new SyncError('invalid_identifier', problem);
}

/** Node and edge ids are any non-empty string up to this length; they are always bound as parameters. */
export const MAX_ID_LENGTH = 256;

export function idProblem(id: unknown): string | null {
  if (typeof id !== 'string') return 'id must be a string';
  if (id.length === 0) return 'id must not be empty';
  if (id.length > MAX_ID_LENGTH) return `id is longer than ${MAX_ID_LENGTH} characters`;
  if (!id.isWellFormed()) return 'id holds a lone surrogate (not valid Unicode)';
  return null;
}

/**
 * Quote an identifier that has already passed validation. Validation is what makes this safe;
 * the backticks only keep Kuzu's parser from reading the name as anything but a name.
 */
export function quoteIdentifier(name: string): string {
  if (!IDENTIFIER_PATTERN.test(name) && !/^_[A-Za-z0-9_]{1,63}$/.test(name)) {
    const shown = JSON.stringify(name.slice(0, 80));
    throw new SyncError('invalid_identifier', `refusing to quote unvalidated identifier ${shown}`);
  }
  return '`' + name + '`';
}
