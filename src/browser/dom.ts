/**
 * The little of the DOM the browser entry uses, typed here: the project compiles against Node's
 * types only (no `lib: dom`), and this keeps it so.
 */
export interface WebSocketLike {
  readonly readyState: number;
  binaryType: string;
  onopen: (() => void) | null;
  onmessage: ((e: { data: unknown }) => void) | null;
  onclose: ((e: { code: number; reason: string }) => void) | null;
  onerror: (() => void) | null;
  send(data: string): void;
  close(code?: number): void;
}

export interface WorkerLike {
  onmessage: ((e: { data: unknown }) => void) | null;
  onerror: ((e: { message?: string }) => void) | null;
  postMessage(message: unknown): void;
  terminate(): void;
}

export interface LockManagerLike {
  request(
    name: string,
    options: { ifAvailable: boolean },
    callback: (lock: object | null) => Promise<void> | void,
  ): Promise<unknown>;
}

interface BrowserGlobals {
  WebSocket?: new (url: string, protocols?: string[]) => WebSocketLike;
  Worker?: new (url: string | URL, options?: { type: 'module'; name?: string }) => WorkerLike;
  navigator?: { locks?: LockManagerLike };
  addEventListener?(type: 'pagehide', listener: () => void): void;
}

export const browser = globalThis as unknown as BrowserGlobals;
