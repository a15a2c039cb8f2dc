/** The schema's pure parts: what `defineSchema` accepts and how, what a declared schema refuses. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SyncError } from '../../src/protocol/errors.js';
import type { Op } from '../../src/protocol/types.js';
import { DeclaredSchema } from '../../src/schema/declared.js';
import { defineSchema, graphSchemaOf, type SchemaDef } from '../../src/schema/define.js';
import { GraphModel } from '../../src/store/graph-model.js';

const def = defineSchema({
  nodes: { Person: { name: 'string', age: 'number' }, Robot: { tags: 'string[]' }, City: {} },
  edges: { KNOWS: { from: ['Person', 'Robot'], to: 'Person', properties: { since: 'number' } } },
});

function throwsCode(f: () => unknown, code: string, message: RegExp): void {
  try {
    f();
  } catch (e) {
    assert.instance(e, SyncError);
    assert.is((e as SyncError).code, code, (e as Error).message);
    assert.match((e as Error).message, message);
    return;
  }
  assert.unreachable(`expected ${code} ${message}`);
}

test('graphSchemaOf: Kuzu column types, and every from/to pair of an edge label', () => {
  assert.equal(graphSchemaOf(def), {
    nodes: [
      { label: 'Person', properties: { name: 'STRING', age: 'DOUBLE' } },
      { label: 'Robot', properties: { tags: 'STRING[]' } },
      { label: 'City', properties: {} },
    ],
    edges: [
      {
        label: 'KNOWS',
        pairs: [
          ['Person', 'Person'],
          ['Robot', 'Person'],
        ],
        properties: { since: 'DOUBLE' },
      },
    ],
  });
});

test('graphSchemaOf refuses malformed definitions with a typed error naming the culprit', () => {
  const cases: Array<[unknown, string, RegExp]> = [
    [null, 'invalid_value', /expected \{ nodes/],
    [{ nodes: { 'Bad-Label': {} } }, 'invalid_identifier', /Bad-Label/],
    [{ nodes: { _Pending: {} } }, 'invalid_identifier', /reserved/],
    [{ nodes: { A: { id: 'string' } } }, 'invalid_identifier', /primary key/],
    [{ nodes: { A: { x: 'string', X: 'number' } } }, 'invalid_identifier', /declared twice/],
    [{ nodes: { A: { x: 'date' } } }, 'invalid_value', /A\.x: type must be one of/],
    [{ nodes: { A: [] } }, 'invalid_value', /properties must be an object/],
    [{ nodes: { A: {} }, edges: { a: { from: 'A', to: 'A' } } }, 'invalid_identifier', /clashes with node label "A"/],
    [{ nodes: { A: {} }, edges: { R: { from: [], to: 'A' } } }, 'invalid_value', /from must be a node label/],
    [{ nodes: { A: {} }, edges: { R: { from: 'A', to: 'a' } } }, 'invalid_value', /"a" is not a declared node label/],
    [{ nodes: { A: {} }, edge: { R: { from: 'A', to: 'A' } } }, 'invalid_value', /the schema: unknown key "edge"/],
    [
      { nodes: { A: {} }, edges: { R: { from: 'A', to: 'A', props: { w: 'number' } } } },
      'invalid_value',
      /edge R: unknown key "props" \(expected from, to, properties\)/,
    ],
  ];
  for (const [input, code, message] of cases) throwsCode(() => graphSchemaOf(input as SchemaDef), code, message);
  const commented = { $schema: 'x', $comment: 'a JSON file may say what it is', nodes: { A: {} } };
  assert.equal(graphSchemaOf(commented as SchemaDef).nodes, [{ label: 'A', properties: {} }]);
});

test('check: a write that does not fit is validation_failed; ids it cannot resolve are left to the planner', () => {
  const declared = new DeclaredSchema(graphSchemaOf(def));
  const model = new GraphModel();
  model.addNode('ann', 'Person');
  model.addNode('r2', 'Robot');
  model.addNode('oslo', 'City');
  model.addEdge('k', { label: 'KNOWS', from: 'r2', to: 'ann' });
  const fits: Op[] = [
    { op: 'create_node', label: 'person', id: 'x', properties: { NAME: 'case folds like Kuzu' } },
    { op: 'create_node', label: 'Robot', id: 'y', properties: { tags: [] } },
    { op: 'create_edge', label: 'KNOWS', id: 'e', from: 'r2', to: 'ann', properties: { since: 1 } },
    { op: 'set_property', target: 'edge', id: 'k', key: 'since', value: null },
    { op: 'set_property', target: 'node', id: 'nobody', key: 'anything', value: 1 },
    { op: 'create_edge', label: 'KNOWS', id: 'e2', from: 'ghost', to: 'ann', properties: {} },
    { op: 'delete_node', id: 'ann' },
  ];
  for (const op of fits) declared.check(op, model);
  const refused: Array<[Op, RegExp]> = [
    [{ op: 'create_node', label: 'Dog', id: 'd', properties: {} }, /node label Dog is not in the schema/],
    [{ op: 'create_node', label: 'Person', id: 'p', properties: { age: '3' } }, /Person\.age holds a number/],
    [{ op: 'create_node', label: 'City', id: 'c', properties: { name: 'x' } }, /City has no property name/],
    [{ op: 'create_edge', label: 'KNOWS', id: 'e', from: 'ann', to: 'r2', properties: {} }, /not Person->Robot/],
    [{ op: 'create_edge', label: 'LIKES', id: 'e', from: 'ann', to: 'ann', properties: {} }, /edge label LIKES/],
    [{ op: 'set_property', target: 'node', id: 'r2', key: 'tags', value: [true] }, /Robot\.tags holds a list/],
    [{ op: 'set_property', target: 'edge', id: 'k', key: 'weight', value: 1 }, /KNOWS has no property weight/],
  ];
  for (const [op, message] of refused) throwsCode(() => declared.check(op, model), 'validation_failed', message);
});

test('conflicts: what a database holds that the schema contradicts, each named', () => {
  const declared = new DeclaredSchema(graphSchemaOf(def));
  const model = new GraphModel();
  assert.equal(declared.conflicts(model), [], 'an empty database fits any schema');
  const person = model.addNodeTable('Person', [{ name: 'age', type: 'STRING' }]);
  model.addNodeTable('robot', []);
  model.addNodeTable('Pet', []);
  model.addRelTable('KNOWS', ['Person', 'Person'], [{ name: 'weight', type: 'DOUBLE' }]);
  model.addRelPair(model.relTable('KNOWS')!, ['Person', 'Pet']);
  assert.equal(declared.conflicts(model), [
    'Person.age holds a string (STRING); the schema says a number (DOUBLE)',
    'node label Robot is spelt robot in the database',
    'the database has node label Pet, which the schema does not declare',
    'the database has KNOWS.weight, which the schema does not declare',
    'the database has KNOWS edges Person->Pet, which the schema does not allow',
  ]);
  model.addColumn(person, { name: 'name', type: 'STRING' });
  assert.is(declared.conflicts(model).length, 5, 'a declared column of the declared type is no conflict');
});

test.run();
