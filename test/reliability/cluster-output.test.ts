import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { claim, leaderOf, takeoverTimes } from './cluster-output.js';

// What `kuzu-sync serve --redis` prints (stdout and stderr in one string, in arrival order).
const line = (at: string, text: string) => `2026-12-06T06:00:${at}Z kuzu-sync: ${text}\n`;
const leads = (at: string, epoch: number) => line(at, `sequencer of epoch ${epoch} from version 3 (1@vm#ab)`);
const stops = (at: string) => line(at, 'no longer the sequencer: the lease was lost');

test('a process claims the epoch it last said it leads in, none once it said it stopped', () => {
  assert.is(claim(''), 0);
  assert.is(claim(leads('01.000', 1)), 1);
  assert.is(claim(leads('01.000', 1) + stops('02.000')), 0);
  assert.is(claim(leads('01.000', 1) + stops('02.000') + leads('03.000', 4)), 4);
  // Put in order by their stamps, not by where they arrived.
  assert.is(claim(leads('03.000', 4) + stops('02.000') + leads('01.000', 1)), 4);
});

test('the leader claims the highest epoch ever said, and alone among the live ones', () => {
  const h0 = leads('01.000', 1);
  const h1 = leads('05.000', 2);
  assert.is(leaderOf([{ name: 'h0', output: h0 }], [h0]), 'h0');
  // h0 was deposed but has not said so yet: nobody is known to lead.
  assert.is(
    leaderOf(
      [
        { name: 'h0', output: h0 },
        { name: 'h1', output: h1 },
      ],
      [h0, h1],
    ),
    undefined,
  );
  assert.is(
    leaderOf(
      [
        { name: 'h0', output: h0 + stops('06.000') },
        { name: 'h1', output: h1 },
      ],
      [h0, h1],
    ),
    'h1',
  );
  // The one that said epoch 2 died: the live one's epoch 1 is stale.
  assert.is(leaderOf([{ name: 'h0', output: h0 }], [h0, h1]), undefined);
});

test('a takeover is timed from the kill to the next process that says it leads', () => {
  const kill = Date.parse('2026-12-06T06:00:04.000Z');
  const took = takeoverTimes([leads('01.000', 1), leads('06.250', 2) + leads('09.000', 3)], [kill]);
  assert.equal(took, { epochs: 3, afterKills: [2250] });
});

test.run();
