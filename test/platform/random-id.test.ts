/**
 * Ids where `crypto.randomUUID` is missing (a page outside a secure context, #21): still version 4
 * UUIDs, from getRandomValues, and distinct.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomId } from '../../src/client/random-id.js';

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('without randomUUID: version 4 UUIDs from getRandomValues, 10,000 of them distinct', () => {
  const insecure = { getRandomValues: (a: Uint8Array) => crypto.getRandomValues(a) };
  const ids = Array.from({ length: 10_000 }, () => randomId(insecure));
  for (const id of ids.slice(0, 100)) assert.match(id, V4);
  assert.is(new Set(ids).size, ids.length);
});

test('with randomUUID, it is used', () => {
  assert.is(
    randomId({ getRandomValues: (a: Uint8Array) => a, randomUUID: () => '00000000-0000-4000-8000-000000000000' }),
    '00000000-0000-4000-8000-000000000000',
  );
  assert.match(randomId(), V4);
});

test.run();
