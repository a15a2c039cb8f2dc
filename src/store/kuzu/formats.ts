import { SyncError } from '../../protocol/errors.js';

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

/** The engine that writes this magic and storage version, for errors; or a plain description. */
export function writerOf(magic: string, storageVersion: number): string {
  const known = Object.values(FORMATS).filter((f) => f.magic === magic && f.storageVersion === storageVersion);
  const names = [...new Set(known.map((f) => f.engine))];
  const what = `${magic} storage version ${storageVersion}`;
  return names.length ? `${names.join(' or ')} (${what})` : what;
}

export const describe = (f: FileFormat) => `${f.engine} (${f.magic} storage version ${f.storageVersion})`;

/** The `_Meta` record of who created a database (written once, at creation). */
export const META_ENGINE = 'engine';
export const META_STORAGE = 'storageVersion';

/**
 * The record a database opened by `f` must carry, checked against what `_Meta` holds: a file
 * without one was created before the record existed: by kuzu-wasm 0.11.3 when its header says
 * Kuzu's format (checkFile let it through). Returns the record to write, if any.
 */
export function checkRecord(
  path: string,
  f: FileFormat,
  meta: Record<string, string | undefined>,
  created: boolean,
): Record<string, string> | undefined {
  const engine = meta[META_ENGINE];
  const storage = meta[META_STORAGE];
  if (engine === undefined || storage === undefined) {
    const writer = created || f.magic !== WASM_FORMATS.wasm.magic ? f : WASM_FORMATS.wasm;
    return { [META_ENGINE]: writer.engine, [META_STORAGE]: String(writer.storageVersion) };
  }
  if (Number(storage) !== f.storageVersion) {
    throw new SyncError(
      'incompatible_file',
      `${path} records that ${engine} (storage version ${storage}) created it; the driver is ${describe(f)}`,
    );
  }
  return undefined;
}
