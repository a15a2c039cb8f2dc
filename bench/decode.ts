/**
 * node --import tsx bench/decode.ts [--baseline <git-rev>] [--rounds N]
 *
 * Decode cost per frame, ns, of this tree's decoder and (with --baseline) of the decoder at a git
 * revision, interleaved round by round on the same frames, medians reported: the fuzz corpus (most
 * frames refused) and the hot messages (one patch in, its answer, its broadcast to every other
 * client: the fan-out path decodes ~90k broadcasts per round). Frames are Buffers, as ws hands them.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as current from '../src/protocol/decode.js';
import { FuzzGenerator } from '../test/helpers/fuzz-cases.js';
import { rng } from '../test/helpers/random.js';

type Decoder = Pick<typeof current, 'decodeClientMessage' | 'decodeServerMessage'>;
interface Kind {
  name: string;
  side: 'client' | 'server';
  frames: Buffer[];
}

const argv = process.argv.slice(2);
const arg = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const rounds = Number(arg('--rounds') ?? 9);

/** The protocol folder at `rev`, written out where tsx can load it. */
async function decoderAt(rev: string): Promise<Decoder> {
  const dir = mkdtempSync(join(tmpdir(), 'decode-baseline-'));
  const files = execFileSync('git', ['ls-tree', '--name-only', rev, 'src/protocol/'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
  for (const f of files) writeFileSync(join(dir, f.split('/').pop()!), execFileSync('git', ['show', `${rev}:${f}`]));
  return (await import(pathToFileURL(join(dir, 'decode.ts')).href)) as Decoder;
}

function hotPatch(i: number) {
  const clientId = `client-${i % 50}`;
  const seq = 1 + i;
  const ops =
    i % 3 === 0
      ? [{ op: 'set_property', target: 'node', id: `n-${i}`, key: 'name', value: `item ${i}` }]
      : [{ op: 'create_node', label: 'Item', id: `n-${i}`, properties: { k: i + 0.5, name: `item ${i}` } }];
  return { id: `${clientId}:${seq}`, clientId, seq, baseVersion: i, ops };
}

function kinds(): Kind[] {
  const n = 2000;
  const buf = (m: unknown) => Buffer.from(typeof m === 'string' ? m : JSON.stringify(m));
  const gen = new FuzzGenerator(rng(14), 'fuzzer', 4096);
  const corpus = Array.from({ length: n }, () => gen.next()).filter((c) => !c.binary);
  const responses = Array.from({ length: n }, (_, i) =>
    i % 10 === 9
      ? {
          type: 'patch_response',
          patchId: `c:${i}`,
          status: 'rejected',
          code: 'conflict',
          reason: 'node:x.k was changed at version 3 by A',
        }
      : { type: 'patch_response', patchId: `c:${i}`, status: 'accepted', version: i + 1 },
  );
  return [
    { name: 'fuzz corpus (client side)', side: 'client', frames: corpus.map((c) => buf(c.frame)) },
    {
      name: 'patch',
      side: 'client',
      frames: Array.from({ length: n }, (_, i) => buf({ type: 'patch', patch: hotPatch(i) })),
    },
    { name: 'patch_response', side: 'server', frames: responses.map(buf) },
    {
      name: 'patch_broadcast',
      side: 'server',
      frames: Array.from({ length: n }, (_, i) => buf({ type: 'patch_broadcast', patch: hotPatch(i), version: i + 1 })),
    },
  ];
}

/** ns per frame over enough passes to run ~100 ms. */
function time(decoder: Decoder, kind: Kind): number {
  const decode = kind.side === 'client' ? decoder.decodeClientMessage : decoder.decodeServerMessage;
  const opts = { maxBytes: 4096, envelopeOfOversized: true };
  let frames = 0;
  const start = performance.now();
  let sink = 0;
  while (performance.now() - start < 100) {
    for (const f of kind.frames) sink += decode(f, opts).ok ? 1 : 0;
    frames += kind.frames.length;
  }
  if (sink < 0) console.log(sink);
  return ((performance.now() - start) * 1e6) / frames;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const rev = arg('--baseline');
const contenders: Array<[string, Decoder]> = [['this tree', current]];
if (rev) contenders.push([`at ${rev}`, await decoderAt(rev)]);
console.log(`kind | ${contenders.map(([n]) => `${n} ns/frame`).join(' | ')}${rev ? ' | ratio' : ''}`);
for (const kind of kinds()) {
  const samples = contenders.map((): number[] => []);
  // Each round in the other order: whoever runs second finds the machine warmer.
  for (let r = 0; r < rounds; r++) {
    const order = contenders.map((_, i) => i);
    if (r % 2) order.reverse();
    for (const i of order) samples[i]!.push(time(contenders[i]![1], kind));
  }
  const medians = samples.map(median);
  const ratio = rev ? ` | ${(medians[0]! / medians[1]!).toFixed(3)}` : '';
  console.log(`${kind.name} | ${medians.map((m) => m.toFixed(0)).join(' | ')}${ratio}`);
}
