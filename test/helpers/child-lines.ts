import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** The exit code of a client process whose database engine crashed (see client-process.ts). */
export const ENGINE_CRASHED_EXIT = 3;

/** Lines of a child's stdout (JSON, or `{ e: 'text', text }`), with a way to wait for one. */
export class ChildLines {
  readonly lines: Array<Record<string, unknown>> = [];
  private waiters: Array<() => void> = [];
  constructor(child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      try {
        this.lines.push(JSON.parse(l));
      } catch {
        this.lines.push({ e: 'text', text: l });
      }
      for (const w of this.waiters.splice(0)) w();
    });
  }
  until(
    pred: (l: Record<string, unknown>) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      const check = () => {
        const hit = this.lines.find(pred);
        if (hit) {
          clearTimeout(timer);
          resolve(hit);
        } else this.waiters.push(check);
      };
      check();
    });
  }
}
