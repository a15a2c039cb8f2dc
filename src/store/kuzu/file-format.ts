/** The engines kuzu-sync runs in its worker. */
export type Engine = 'wasm' | 'native' | 'ladybug';
export type WasmEngine = 'wasm' | 'ladybug';

/**
 * What an engine writes. A database file begins with a 4-byte magic and its storage version as a
 * little-endian 64-bit integer (measured: kuzu-wasm and kuzu 0.11.3 write `KUZU` and 39, from the
 * moment a database is opened; @ladybugdb/wasm-core 0.22.3 writes `LBUG` and 49). Neither engine
 * opens the other's files, and the fork rewrites some foreign files it is given, even read-only:
 * the guard reads the header before any engine sees the file.
 */
export interface FileFormat {
  /** Who writes it, as recorded in `_Meta` and named in errors: `kuzu-wasm 0.11.3`. */
  readonly engine: string;
  readonly packageName: string;
  readonly version: string;
  readonly magic: string;
  readonly storageVersion: number;
}

function format(packageName: string, version: string, magic: string, storageVersion: number): FileFormat {
  return { engine: `${packageName} ${version}`, packageName, version, magic, storageVersion };
}

export const WASM_FORMATS: Record<WasmEngine, FileFormat> = {
  wasm: format('kuzu-wasm', '0.11.3', 'KUZU', 39),
  ladybug: format('@ladybugdb/wasm-core', '0.22.3', 'LBUG', 49),
};
export const NATIVE_FORMAT = format('kuzu', '0.11.3', 'KUZU', 39);

export const FORMATS: Record<Engine, FileFormat> = { ...WASM_FORMATS, native: NATIVE_FORMAT };
