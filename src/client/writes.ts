import { SyncError } from '../protocol/errors.js';
import { assertValidOp } from '../protocol/validate.js';
import type { Op, Patch, Props, Value } from '../protocol/types.js';
import type { Fates } from './fates.js';
import type { BatchWriter, HandleWrites, WriteHandle, Writes } from './options.js';
import { randomId } from './random-id.js';

/**
 * The op each write makes, and the id of what it writes: one place for the three ways a write is
 * made (in a batch, on the client, and on `client.write` with a handle).
 */
const opsOf = {
  createNode(label: string, properties: Props = {}, options: { id?: string } = {}) {
    const id = options.id ?? randomId();
    return { id, op: { op: 'create_node', label, id, properties } as Op };
  },
  setProperty: (target: 'node' | 'edge', id: string, key: string, value: Value | null) => ({
    id,
    op: { op: 'set_property', target, id, key, value } as Op,
  }),
  createEdge(label: string, fromId: string, toId: string, properties: Props = {}, options: { id?: string } = {}) {
    const id = options.id ?? randomId();
    return { id, op: { op: 'create_edge', label, id, from: fromId, to: toId, properties } as Op };
  },
  deleteNode: (id: string) => ({ id, op: { op: 'delete_node', id } as Op }),
  deleteEdge: (id: string) => ({ id, op: { op: 'delete_edge', id } as Op }),
  upsertNode: (label: string, id: string, properties: Props = {}) => ({
    id,
    op: { op: 'upsert_node', label, id, properties } as Op,
  }),
  upsertEdge: (label: string, id: string, fromId: string, toId: string, properties: Props = {}) => ({
    id,
    op: { op: 'upsert_edge', label, id, from: fromId, to: toId, properties } as Op,
  }),
};

type WriteName = keyof typeof opsOf;

/** The writes that give back the id they create or upsert; the others give nothing (or a handle). */
const givesId = (name: WriteName): boolean => name !== 'setProperty' && !name.startsWith('delete');

type Made<R> = { [K in WriteName]: (...args: Parameters<(typeof opsOf)[K]>) => R };

/**
 * The seven writes, each handing its op to `finish`, which checks it (assertValidOp) and says what the
 * write returns. An async `finish` turns a refused op into a rejected promise, not a throw.
 */
function makeWrites<R>(finish: (op: Op, id: string, name: WriteName) => R): Made<R> {
  const made = {} as Record<WriteName, (...args: never[]) => R>;
  for (const name of Object.keys(opsOf) as WriteName[]) {
    const of = opsOf[name] as (...args: unknown[]) => { id: string; op: Op };
    made[name] = (...args) => {
      const { id, op } = of(...args);
      return finish(op, id, name);
    };
  }
  return made as Made<R>;
}

/**
 * Runs a batch's build function and gives back what it returned and the ops it wrote; every write
 * validates at once and throws a typed error. The writer takes writes only while the function runs:
 * a write kept for later, or made after an `await`, would otherwise vanish without a word.
 */
function buildBatch<R>(build: (tx: BatchWriter) => R): { ops: Op[]; value: R } {
  const ops: Op[] = [];
  let open = true;
  const writer = makeWrites((op, id, name) => {
    if (!open)
      throw new SyncError('closed', 'this batch has ended: its writer takes writes only while its function runs');
    ops.push(assertValidOp(op));
    return givesId(name) ? id : undefined;
  });
  try {
    const value = build(writer as BatchWriter);
    if (isThenable(value)) {
      // Its rejection (a write after an await, refused above) is this error's to tell, not an unhandled one.
      value.then(undefined, () => {});
      throw new SyncError('invalid_value', 'a batch function must be synchronous: its writer closes when it returns');
    }
    return { ops, value };
  } finally {
    open = false;
  }
}

const isThenable = (x: unknown): x is PromiseLike<unknown> =>
  (typeof x === 'object' || typeof x === 'function') &&
  x !== null &&
  typeof (x as PromiseLike<unknown>).then === 'function';

/**
 * The client's writes, on `write` (one patch each, or one per batch): plain (`client.createNode`
 * gives the id once the write is in the local view), and with handles (`client.write`).
 */
export function clientWrites(write: (ops: Op[]) => Promise<Patch>, fates: Fates) {
  const handle = <T>(patch: Patch, id: T): WriteHandle<T> => {
    const { ref, confirmed } = fates.track(patch.id);
    return {
      id,
      get patchId() {
        return ref.id;
      },
      confirmed,
    };
  };
  const plain = makeWrites(async (op, id, name) => {
    await write([assertValidOp(op)]);
    return givesId(name) ? id : undefined;
  }) as unknown as Writes<undefined, 'client'>;
  const withHandles = {
    ...makeWrites(async (op, id) => handle(await write([assertValidOp(op)]), id)),
    async batch<R>(build: (tx: BatchWriter) => R) {
      const { ops, value } = buildBatch(build);
      if (!ops.length) throw new SyncError('invalid_value', 'this batch has no writes: there is nothing to confirm');
      return handle(await write(ops), value);
    },
  } as HandleWrites;
  // The rest parameter is SyncBuild's, there only for the types.
  const batch = async (build: (tx: BatchWriter) => unknown, ..._synchronous: unknown[]): Promise<void> => {
    const { ops } = buildBatch(build);
    if (ops.length) await write(ops);
  };
  return { plain, withHandles, batch };
}
