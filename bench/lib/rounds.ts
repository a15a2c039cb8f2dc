/**
 * Runs every variant once per round, `rounds` times, rotating which goes first, so drift in the
 * machine's load (it is shared) and warm-up land on all of them alike. Returns each variant's
 * per-round values.
 */
export async function interleave<K extends string, T>(
  rounds: number,
  variants: Record<K, (round: number) => Promise<T>>,
  log: (line: string) => void,
  show: (value: T) => string = String,
): Promise<Record<K, T[]>> {
  const names = Object.keys(variants) as K[];
  const out = Object.fromEntries(names.map((n) => [n, [] as T[]])) as Record<K, T[]>;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(r + i) % names.length]!;
      out[name].push(await variants[name](r));
    }
    log(`round ${r + 1}/${rounds}: ${names.map((n) => `${n} ${show(out[n].at(-1)!)}`).join(', ')}`);
  }
  return out;
}

export const ms = (x: number) => `${x.toFixed(1)} ms`;

/**
 * Splits `all` (from `interleave`) into its first `n` rounds and the rest: warm-up rounds run like
 * the others, for a figure that describes a process past its JIT's warming (see the burst).
 */
export function splitWarmUp<K extends string, T>(
  all: Record<K, T[]>,
  n = 1,
): { warmUp: Record<K, T[]>; rounds: Record<K, T[]> } {
  const part = (f: (v: T[]) => T[]) =>
    Object.fromEntries(Object.entries<T[]>(all).map(([k, v]) => [k, f(v)])) as Record<K, T[]>;
  return { warmUp: part((v) => v.slice(0, n)), rounds: part((v) => v.slice(n)) };
}
