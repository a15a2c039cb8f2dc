/**
 * Who leads a cluster, read from what its processes print: `<ISO time> kuzu-sync: sequencer of epoch
 * N ...` when one starts leading, `... no longer the sequencer ...` when it stops. The two go to
 * different pipes (stdout and stderr), so lines are put in order by their time stamps, not arrival.
 */

interface Said {
  at: number;
  /** The epoch it leads in from here on; 0: it stopped leading. */
  epoch: number;
}

const LINE = /^(\S+) kuzu-sync: (?:sequencer of epoch (\d+)|no longer the sequencer)/gm;

function leadLines(output: string): Said[] {
  return [...output.matchAll(LINE)]
    .map((m) => ({ at: Date.parse(m[1]!), epoch: Number(m[2] ?? 0) }))
    .sort((a, b) => a.at - b.at);
}

/** The epoch a process says it leads in now (0: none). */
export const claim = (output: string): number => leadLines(output).at(-1)?.epoch ?? 0;

/**
 * The live process that leads: it claims the highest epoch any process ever said, and no other live
 * one claims any (a deposed sequencer says so once Redis tells it).
 */
export function leaderOf(alive: Array<{ name: string; output: string }>, outputs: string[]): string | undefined {
  const top = Math.max(0, ...outputs.flatMap((o) => leadLines(o).map((s) => s.epoch)));
  const claiming = alive.filter((a) => claim(a.output) > 0);
  return claiming.length === 1 && claim(claiming[0]!.output) === top ? claiming[0]!.name : undefined;
}

/** The highest epoch said, and for each kill of a sequencer how long until the next one said it leads. */
export function takeoverTimes(outputs: string[], kills: number[]): { epochs: number; afterKills: number[] } {
  const leads = outputs
    .flatMap(leadLines)
    .filter((s) => s.epoch > 0)
    .sort((a, b) => a.at - b.at);
  const afterKills = kills.flatMap((t) => {
    const next = leads.find((s) => s.at > t);
    return next ? [next.at - t] : [];
  });
  return { epochs: Math.max(0, ...leads.map((s) => s.epoch)), afterKills };
}
