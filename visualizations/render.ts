import { Graphviz } from '@hpcc-js/wasm-graphviz';
import type { AnyStateMachine } from 'xstate';
import { clientMachine } from '../machines/client.machine.js';
import { connectionMachine } from '../machines/connection.machine.js';
import { frameMachine } from '../machines/frame.machine.js';
import { patchMachine } from '../machines/patch.machine.js';
import { reconciliationMachine } from '../machines/reconciliation.machine.js';
import { storeMachine } from '../machines/store.machine.js';
import { diagramOf, rootHandlers, toDot, toMermaid } from '../src/testing/diagram.js';

export const MACHINES: Array<{ machine: AnyStateMachine; about: string }> = [
  {
    machine: clientMachine,
    about:
      "The root of the actor system. It starts the store and the connection, sends each group commit's patches (one frame actor for them when ready, a patch actor each when queued) and settles their verdicts; on close it waits for the connection to flush, then closes the database.",
  },
  {
    machine: connectionMachine,
    about:
      'The connection lifecycle: open the socket, send sync_request, reconcile, then stay ready with heartbeats (two unanswered = lost). A lost or failed connection waits in backoff (exponential from reconnectInterval, full jitter, capped at maxReconnectInterval) and tries again; the count starts over once the server is seen alive (ready, and still up after maxReconnectInterval: an open socket is not enough). A 401 stops trying. Closing waits, for a while, for answers to what is on the wire. Acknowledgements, broadcasts and errors go from the socket straight to the store and the patch actors: this machine would only forward them.',
  },
  {
    machine: frameMachine,
    about:
      'The common path of the patches of one group commit, sent together: sent, then accepted or ignored, one actor for the lot. Every patch that leaves that path (rejected, settled by a resync, no longer applies, or unanswered when the socket closed) goes on as its own patch actor, started in `sent`.',
  },
  {
    machine: patchMachine,
    about:
      'The life of one local patch, as its own actor when it leaves the common path of a frame or is queued offline: applied optimistically, then queued or sent; a verdict can only come for a sent patch, and reconciliation can settle a queued one whose answer was lost. A rejection invokes the rollback.',
  },
  {
    machine: reconciliationMachine,
    about:
      "One exchange with the server after (re)connecting or on a resync: ask, collect the answer's chunks, then rebase (undo pending patches, apply the server's delta or snapshot, redo) or, when the serverId changed, reset (snapshot, and renumber the pending patches).",
  },
  {
    machine: storeMachine,
    about:
      'The single writer in front of the local KuzuDB: requests queue while a batch runs and become the next batch, so local writes, server changes, rollbacks and rebases apply strictly in order. A batch starts on entering `writing` and reports back as done or failed.',
  },
];

/** Every file of visualizations/ that is generated, by name. */
export async function renderAll(): Promise<Map<string, string>> {
  const graphviz = await Graphviz.load();
  const files = new Map<string, string>();
  const readme = [
    '# Statecharts',
    '',
    'Generated from the machine objects in `machines/` by `npm run visualize` (a test fails when these files are stale).',
    'Each machine has a Mermaid file (rendered below by GitHub) and an SVG drawn by Graphviz. Dotted edges are transitions that stay in their state (actions only).',
    '',
  ];
  for (const { machine, about } of MACHINES) {
    const d = diagramOf(machine);
    const mermaid = toMermaid(d);
    files.set(`${machine.id}.mmd`, mermaid);
    files.set(`${machine.id}.svg`, graphviz.dot(toDot(d)));
    const root = rootHandlers(d);
    readme.push(`## ${machine.id}`, '', about, '', '```mermaid', mermaid.trimEnd(), '```', '');
    if (root.length) readme.push(`In every state: ${root.map((r) => `\`${r}\``).join(', ')}.`, '');
    readme.push(`![${machine.id}](${machine.id}.svg)`, '');
  }
  files.set('README.md', readme.join('\n'));
  return files;
}
