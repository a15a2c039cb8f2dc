export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `step` until `running()` is false; a failure waits, doubling up to a second, then goes on. */
export async function loop(
  running: () => boolean,
  step: () => Promise<void>,
  onError: (e: unknown) => void,
): Promise<void> {
  let failures = 0;
  while (running()) {
    try {
      await step();
      failures = 0;
    } catch (e) {
      if (!running()) return;
      if (failures++ === 0) onError(e);
      await sleep(Math.min(1000, 20 * 2 ** failures));
    }
  }
}
