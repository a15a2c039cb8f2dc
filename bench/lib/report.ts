import { median } from './stats.js';

/** One line of the table and one entry of results/latest.json. */
export interface Result {
  scenario: string;
  /** Median over rounds of our per-round value. */
  ours: number;
  /** Median over rounds of the baseline's per-round value, measured in the same run, interleaved. */
  baseline: number;
  /** ours / baseline. */
  ratio: number;
  goal: string;
  met: boolean;
  unit: string;
  /** What the baseline is, in words. */
  baselineIs: string;
  rounds: number;
  /** Per-round values, so a reader can see the spread behind the median. */
  samples: { ours: number[]; baseline: number[] };
  note?: string;
  /** Supporting figures (medians), e.g. where the CPU went. */
  detail?: Record<string, number>;
  /** The engine of the pass that measured it (see bench/run.ts --engines). */
  engine?: string;
}

export interface RatioSpec {
  scenario: string;
  unit: string;
  baselineIs: string;
  ours: number[];
  baseline: number[];
  /** The goal is a ratio: met when ours/baseline is at most (or, `strict`, below) this. */
  maxRatio?: number;
  strict?: boolean;
  /** Or any other goal, judged on the medians. */
  goal?: { text: string; met: (ours: number, baseline: number) => boolean };
  note?: string;
  detail?: Record<string, number>;
}

/** The common case: a time ratio against a baseline run in the same rounds. */
export function ratioResult(s: RatioSpec): Result {
  const ours = median(s.ours);
  const baseline = median(s.baseline);
  const ratio = ours / baseline;
  return {
    scenario: s.scenario,
    ours,
    baseline,
    ratio,
    ...judge(s, ours, baseline, ratio),
    unit: s.unit,
    baselineIs: s.baselineIs,
    rounds: s.ours.length,
    samples: { ours: s.ours, baseline: s.baseline },
    ...(s.note ? { note: s.note } : {}),
    ...(s.detail ? { detail: s.detail } : {}),
  };
}

function judge(s: RatioSpec, ours: number, baseline: number, ratio: number): { goal: string; met: boolean } {
  if (s.goal) return { goal: s.goal.text, met: s.goal.met(ours, baseline) };
  if (s.maxRatio === undefined) throw new Error(`${s.scenario}: no goal`);
  return { goal: `${s.strict ? '<' : '<='} ${s.maxRatio}x`, met: s.strict ? ratio < s.maxRatio : ratio <= s.maxRatio };
}

const num = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2));

export function formatTable(results: Result[]): string {
  const head = ['scenario', 'ours', 'baseline', 'ratio', 'goal', 'met'];
  const rows = results.map((r) => [
    r.scenario,
    `${num(r.ours)} ${r.unit}`,
    `${num(r.baseline)} ${r.unit}`,
    `${r.ratio.toFixed(2)}x`,
    r.goal,
    r.met ? 'yes' : 'no',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const detail = (r: Result) =>
    r.detail
      ? `; ${Object.entries(r.detail)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`
      : '';
  const about = (r: Result) => `baseline = ${r.baselineIs}${r.note ? `; ${r.note}` : ''}`;
  const legend = results.map(
    (r, i) => `  ${r.scenario}: ${i > 0 && about(results[i - 1]!) === about(r) ? 'as above' : about(r)}${detail(r)}`,
  );
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), '', 'baselines:', ...legend].join(
    '\n',
  );
}
