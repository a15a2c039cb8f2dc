/**
 * The browser's database thread: a module Web Worker running kuzu-wasm's sync build and the step
 * runner, so statements never block the page. Bundled on its own (scripts/bundle-browser.mjs).
 */
import { type BrowserRequest, Databases } from './databases.js';

const scope = globalThis as unknown as {
  onmessage: ((e: { data: BrowserRequest }) => void) | null;
  postMessage(message: unknown): void;
};
const databases = new Databases();
scope.onmessage = ({ data }) => {
  void databases.answer(data).then((res) => scope.postMessage(res));
};
