/**
 * node bench/boot.mjs <entry.ts> [args]: runs a TypeScript entry point with tsx registered in this
 * thread only, not through `--import tsx`. Flags like that are inherited by every worker thread, and
 * kuzu-wasm starts a pool of pthread workers per instance: each of them loading tsx made a kuzu-wasm
 * start-up cost 3.2 s of CPU instead of 0.7 s (measured here). kuzu-sync's own worker registers tsx
 * for itself when it runs from sources, so nothing else needs the flag.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';

register();
const entry = resolve(process.argv[2]);
// The entry sees itself as argv[1] and its own arguments after it, as if started directly.
process.argv.splice(1, 2, entry);
await import(pathToFileURL(entry).href);
