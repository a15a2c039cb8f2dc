export declare const NODE_PLATFORM: string[];
export declare function bundleBrowser(
  outdir?: string,
  options?: { quiet?: boolean },
): Promise<Record<string, { bytes: number; gzip: number }>>;
