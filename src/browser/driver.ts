import { SyncError } from '../protocol/errors.js';
import { EngineCrashed, type KuzuConnection, type KuzuDriver } from '../store/kuzu/driver.js';
import { WASM_FORMATS } from '../store/kuzu/formats.js';
import type { RunResult } from '../store/kuzu/steps.js';
import { isInMemoryPath } from '../store/kuzu/sync-database.js';
import { type BrowserRequest, type BrowserResponse, Databases } from './databases.js';
import { browser, type WorkerLike } from './dom.js';

type Request = BrowserRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

export interface BrowserDriverOptions {
  /** Where the databases run: a module Web Worker (default), or the page's own thread. */
  thread?: 'worker' | 'main';
  /** The worker bundle; default `kuzu-sync-worker.js` next to this bundle. */
  workerUrl?: string | URL;
  /**
   * kuzu-wasm's sync build: default `kuzu-wasm-sync.js` next to this bundle (the bundle script's split
   * glue); the package's own `kuzu-wasm/sync/index.js`, which inlines its wasm, loads too (slower).
   */
  kuzuUrl?: string | URL;
  /** The split glue's wasm, served as `application/wasm`; default `kuzu-wasm-sync.wasm` next to `kuzuUrl`. */
  wasmUrl?: string | URL;
}

/** One thread's databases, asked by message. */
interface Thread {
  request(req: Request): Promise<BrowserResponse>;
}

let nextId = 1;
const mainThread = (): Thread => {
  const databases = new Databases();
  return { request: (req) => databases.answer({ ...req, id: nextId++ } as BrowserRequest) };
};

/** A module Web Worker; if it dies, every request in flight fails and the next starts another. */
function workerThread(url: string): Thread {
  const Worker = browser.Worker;
  if (!Worker) throw new SyncError('internal', 'no Web Worker here: use browserDriver({ thread: "main" })');
  let worker: WorkerLike | undefined;
  const pending = new Map<number, { resolve: (r: BrowserResponse) => void; reject: (e: Error) => void }>();
  const start = (): WorkerLike => {
    const w = new Worker(url, { type: 'module', name: 'kuzu-sync' });
    w.onmessage = ({ data }) => {
      const res = data as BrowserResponse;
      pending.get(res.id)?.resolve(res);
      pending.delete(res.id);
    };
    w.onerror = (e) => {
      // A worker script that did not load says nothing of why (a 404 of a bundle moved elsewhere).
      const why = e.message ? e.message : `could not start ${url} (served there? see browserDriver({ workerUrl }))`;
      for (const p of pending.values()) p.reject(new SyncError('internal', `kuzu worker failed: ${why}`));
      pending.clear();
      if (worker === w) worker = undefined;
      w.terminate();
    };
    return w;
  };
  return {
    request(req) {
      const w = (worker ??= start());
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        w.postMessage({ ...req, id });
      });
    },
  };
}

const threads = new Map<string, Thread>();

/** Persisted databases open in this page: saved, best effort, when the page goes away. */
const persisted = new Set<() => void>();
let listening = false;
function onPageHide(persist: () => void): () => void {
  if (!listening) {
    listening = true;
    browser.addEventListener?.('pagehide', () => {
      for (const p of persisted) p();
    });
  }
  persisted.add(persist);
  return () => persisted.delete(persist);
}

/** How long this page's database thread spent saving to IndexedDB and starting kuzu-wasm (tests and bench). */
export async function persistenceStats(options: BrowserDriverOptions = {}): Promise<unknown> {
  const thread = threads.get(
    options.thread === 'main' ? 'main' : String(options.workerUrl ?? here('./kuzu-sync-worker.js')),
  );
  const res = thread && (await thread.request({ type: 'stats' }));
  return res && 'stats' in res ? res.stats : undefined;
}

const here = (file: string) => new URL(file, import.meta.url).href;

/**
 * kuzu-wasm 0.11.3's default sync build in a browser, behind the same KuzuDriver as Node's drivers
 * and running the same step runner: in a module Web Worker shared by the page's databases, or on
 * the page's thread. A `databasePath` names a database kept in IndexedDB (IDBFS): loaded before it
 * opens, saved after each write (coalesced), checkpointed and saved when idle, on close and on
 * `pagehide`; `durable()` (the client's flush) waits for a save that covers every earlier write.
 */
export function browserDriver(options: BrowserDriverOptions = {}): KuzuDriver {
  const kuzuUrl = String(options.kuzuUrl ?? here('./kuzu-wasm-sync.js'));
  const wasmUrl = String(options.wasmUrl ?? new URL('./kuzu-wasm-sync.wasm', kuzuUrl));
  const workerUrl = String(options.workerUrl ?? here('./kuzu-sync-worker.js'));
  // The bundle's own glue, or a wasm named with its glue: a split pair, loaded at once.
  const split = options.kuzuUrl === undefined || options.wasmUrl !== undefined;
  const key = options.thread === 'main' ? 'main' : workerUrl;
  return {
    name: 'kuzu-wasm-browser',
    format: WASM_FORMATS.wasm,
    async open(path, { bufferSize }) {
      let thread = threads.get(key);
      if (!thread) threads.set(key, (thread = key === 'main' ? mainThread() : workerThread(workerUrl)));
      const ask = async (req: Request) => {
        const res = await thread.request(req);
        if (!res.ok) throw res.crashed ? new EngineCrashed(res.error) : new Error(res.error);
        return res;
      };
      const { handle } = (await ask({ type: 'open', path, bufferSize, kuzuUrl, wasmUrl, split })) as { handle: number };
      let closed = false;
      const inMemory = isInMemoryPath(path);
      const persist = () => void thread.request({ type: 'persist', handle }).catch(() => undefined);
      const forget = inMemory ? () => false : onPageHide(persist);
      // Only a persisted database has a save to wait for: without `durable`, a commit is as durable
      // as it gets, and the client sends its patches without a round trip to this thread first.
      const durable = async () => {
        if (!closed) await ask({ type: 'durable', handle });
      };
      const connection: KuzuConnection = {
        ...(inMemory ? {} : { durable }),
        async run(steps, opts = {}) {
          if (closed) throw new Error('database is closed');
          return ((await ask({ type: 'run', handle, steps, options: opts })) as { result: RunResult }).result;
        },
        async close() {
          if (closed) return;
          closed = true;
          forget();
          await ask({ type: 'close', handle });
        },
      };
      return connection;
    },
  };
}
