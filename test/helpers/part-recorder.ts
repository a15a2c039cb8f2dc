import type { KuzuDriver } from '../../src/store/kuzu/driver.js';
import type { TransactionPart } from '../../src/store/kuzu/steps.js';
import { defaultDriver } from '../../src/store/kuzu/worker-driver.js';

/**
 * The default driver, with the part of every run written down ('-' for a run that is not one).
 * `before` is called before each run goes to the engine, with every earlier run answered.
 */
export function recordingParts(before?: (part: TransactionPart | '-') => void): {
  driver: KuzuDriver;
  parts: Array<TransactionPart | '-'>;
} {
  const parts: Array<TransactionPart | '-'> = [];
  const inner = defaultDriver();
  let answered: Promise<unknown> = Promise.resolve();
  const driver: KuzuDriver = {
    name: 'recording',
    ...(inner.format && { format: inner.format }),
    async open(path, options) {
      const conn = await inner.open(path, options);
      return {
        runsInParts: conn.runsInParts,
        run: (steps, opts = {}) => {
          const part = opts.part ?? '-';
          parts.push(part);
          if (!before) return conn.run(steps, opts);
          const run = answered.then(() => before(part)).then(() => conn.run(steps, opts));
          answered = run.catch(() => undefined);
          return run;
        },
        close: () => conn.close(),
      };
    },
  };
  return { driver, parts };
}
