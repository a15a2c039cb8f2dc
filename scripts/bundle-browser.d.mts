export declare const NODE_PLATFORM: string[];
export declare const GLUE_OPTIONS: string;
export declare function splitKuzuWasm(glue: string): { js: string; wasm: Buffer };
export declare function bundleBrowser(
  outdir?: string,
  options?: { quiet?: boolean },
): Promise<Record<string, { bytes: number; gzip: number }>>;
