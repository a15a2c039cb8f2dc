/**
 * A live query, watched: `npm run example:live` (about 12 s, a few of them starting kuzu-wasm).
 * Three clients hold the same live query on tasks: a viewer that only reads, and Alice and Bob, who
 * write in turns. Each view is redrawn as the changes land. Bob's task for Mallory is refused by the
 * server: it shows in Bob's view at once (writes are optimistic), marked unconfirmed, and leaves it
 * when the rejection rolls it back; the viewer and Alice never see it.
 *
 * In a terminal the views are redrawn in place (NO_COLOR turns the colours off); piped, or in CI,
 * each frame is printed after the last with no escape codes, so the output reads as a log. With
 * SYNC_SERVER_URL unset it starts a sync server in this process; set it to use yours (that one
 * refuses nothing, so the rejection is skipped, and the tasks of each run are kept apart).
 *
 * The graph is declared with `defineSchema`: it types the clients' writes, and the `done` column
 * exists from the start, so the live query answers before any task has been marked done. A server of
 * yours may have no schema: the clients' own is then the one in force, and the server takes the
 * writes as they come. A change to another label there (`npm run example:sync` at the same time, say)
 * makes each client warn and resync from a snapshot, since its schema refuses it. A server with a
 * schema of its own must declare Task with these properties.
 */
import { randomUUID } from 'node:crypto';
import {
  createSyncClient,
  createSyncServer,
  defineSchema,
  type LiveInfo,
  type SyncClient,
  type SyncServer,
} from '../src/index.js';

const schema = defineSchema({
  nodes: {
    // `run` tags a run's tasks, for a server of your own that keeps earlier runs' (see the query).
    Task: { title: 'string', owner: 'string', done: 'boolean', run: 'string' },
  },
});

/** Between two writes: slow enough to follow by eye, and in a recording. */
const PAUSE_MS = 700;
/**
 * The embedded server answers each patch this late, as a server across the internet might: on
 * localhost a write would be confirmed (or rolled back) before anyone could see it was pending.
 */
const LATENCY_MS = 400;
/** How long a rejected row stays on screen, struck out, after the rollback took it away. */
const REJECTED_SHOWN_MS = 1500;

const started = Date.now();
const seconds = () => ((Date.now() - started) / 1000).toFixed(1);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---- the terminal ------------------------------------------------------------------------------

const tty = process.stdout.isTTY === true && process.env.TERM !== 'dumb';
const colour = tty && !process.env.NO_COLOR;
/** Not 80: some terminals wrap a line that fills the last column, and the redraw would drift. */
const WIDTH = 79;
/** In place, the frame keeps its height as rows come and go (no jumping); in a log, no filler. */
const MIN_ROWS = tty ? 4 : 0;

type Paint = (s: string) => string;
const sgr =
  (code: string): Paint =>
  (s) =>
    colour ? `\x1b[${code}m${s}\x1b[0m` : s;
const green = sgr('32');
const yellow = sgr('33');
const red = sgr('31');
const struck = sgr('9;31');
const dim = sgr('2');
const bold = sgr('1');

/** A line is built from segments whose text is measured before it is painted. */
type Seg = { text: string; paint?: Paint | undefined };
type Line = Seg[];
const seg = (text: string, paint?: Paint): Seg => ({ text, paint });
const measure = (l: Line) => l.reduce((n, s) => n + s.text.length, 0);
const show = (l: Line) => l.map((s) => (s.paint ? s.paint(s.text) : s.text)).join('');
const fit = (s: string, w: number) => (s.length > w ? `${s.slice(0, w - 1)}…` : s.padEnd(w));
const clip = (l: Line, w: number): Line => {
  const out: Line = [];
  let room = w;
  for (const s of l) {
    if (room <= 0) break;
    out.push(s.text.length > room ? seg(`${s.text.slice(0, room - 1)}…`, s.paint) : s);
    room -= Math.min(s.text.length, room);
  }
  return out;
};

const SPINNER = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏';
/** A row the server has not answered yet; it spins in place, and is a plain mark in a log. */
const pendingMark = () => (tty ? SPINNER[Math.floor(Date.now() / 80) % SPINNER.length]! : '…');

// ---- the clients and what they show ------------------------------------------------------------

/** A row of the live query; `done` is null until a task is marked done: tasks are created without it. */
type Task = { id: string; title: string; owner: string; done: boolean | null };
type Write = { id: string; desc: string; task?: Task };
interface Pane {
  name: string;
  client: SyncClient<typeof schema>;
  rows?: Task[];
  info?: LiveInfo;
  /**
   * This writer's writes the server has not answered, oldest first. A write does not return its
   * patch id, so the verdicts (which carry only that id) are matched by order: one client's patches
   * are answered in the order they were written, and here no two of a writer's are out at once.
   */
  unanswered: Write[];
  /** Rejected rows, kept on screen a little after they left the live result. */
  rejected: Map<string, { task: Task; reason: string; until: number; gone: boolean }>;
}
type Event = { at: string; who: string; text: string; paint?: Paint };

const run = Date.now().toString(36);
const events: Event[] = [];
const log = (who: string, text: string, paint?: Paint) => {
  events.push({ at: seconds(), who, text, ...(paint ? { paint } : {}) });
  changed();
};

console.log('Starting kuzu-wasm, a sync server and three clients...');
let server: SyncServer | undefined;
let serverUrl = process.env.SYNC_SERVER_URL;
if (!serverUrl) {
  server = await createSyncServer({
    port: 0,
    schema,
    validatePatch: async (patch) => {
      await sleep(LATENCY_MS);
      const forMallory = patch.ops.some(
        (o) =>
          (o.op === 'create_node' && o.properties.owner === 'Mallory') ||
          (o.op === 'set_property' && o.key === 'owner' && o.value === 'Mallory'),
      );
      return forMallory ? 'Mallory gets no tasks' : true;
    },
  });
  serverUrl = server.url;
}

// A server of your own keeps the tasks of earlier runs: there, each run watches only its own.
const where = server ? '' : ' WHERE t.run = $run';
const cypher = `MATCH (t:Task)${where} RETURN t.id AS id, t.title AS title, t.owner AS owner, t.done AS done ORDER BY t.title`;

const [viewer, alice, bob] = await Promise.all(
  ['Viewer', 'Alice', 'Bob'].map(async (name): Promise<Pane> => {
    const client = await createSyncClient({
      serverUrl: serverUrl!,
      clientId: `live-${name}-${process.pid}-${run}`,
      schema,
    });
    return { name, client, unanswered: [], rejected: new Map() };
  }),
);
const panes = [viewer!, alice!, bob!];
const writers = [alice!, bob!];

for (const p of panes) {
  p.client.live<Task>(cypher, server ? {} : { run }).subscribe(
    (rows, info) => {
      p.rows = rows;
      p.info = info;
      noticeRollbacks(p);
      changed();
    },
    (e) => fail(new Error(`${p.name}'s live query stopped: ${e.code}: ${e.message}`)),
  );
}

for (const w of writers) {
  w.client.on('accepted', ({ version }) => {
    const write = w.unanswered.shift();
    if (write) log('server', `✓ v${version ?? '?'} · ${w.name} ${write.desc}`, green);
  });
  w.client.on('rejected', ({ code, reason }) => {
    const write = w.unanswered.shift();
    if (!write) return;
    log('server', `✗ rejected: ${w.name} ${write.desc}`, red);
    const task = w.rows?.find((t) => t.id === write.id) ?? write.task;
    if (task) {
      w.rejected.set(write.id, { task, reason: `${code} (${reason})`, until: 0, gone: false });
      noticeRollbacks(w);
    }
  });
}

/** A rejected row left the live result: the rollback reached the view. Keep it struck out a while. */
function noticeRollbacks(p: Pane): void {
  for (const [id, r] of p.rejected) {
    if (r.gone || p.rows?.some((t) => t.id === id)) continue;
    r.gone = true;
    r.until = Date.now() + REJECTED_SHOWN_MS;
    setTimeout(changed, REJECTED_SHOWN_MS + 10);
    log(p.name, `↺ rolled back: ${r.reason}`, red);
  }
}

// ---- drawing -----------------------------------------------------------------------------------

function box(title: string, status: Line, body: Line[], width: number): Line[] {
  const fill = width - 8 - title.length - measure(status);
  const top = [seg('╭─ ', dim), seg(title, bold), seg(` ${'─'.repeat(fill)} `, dim), ...status, seg(' ─╮', dim)];
  const rows = body.map((l) => [seg('│', dim), ...l, seg(' '.repeat(width - 2 - measure(l))), seg('│', dim)]);
  return [top, ...rows, [seg(`╰${'─'.repeat(width - 2)}╯`, dim)]];
}

function paneBody(p: Pane, wide: boolean): Line[] {
  const [titleW, ownerW, doneW] = wide ? [34, 12, 6] : [20, 7, 4];
  const cells = (t: Task) => `${fit(t.title, titleW)} ${fit(t.owner, ownerW)} ${fit(t.done ? 'done' : '', doneW)}`;
  const now = Date.now();
  const shown: Array<{ title: string; line: Line }> = [];
  for (const t of p.rows ?? []) {
    if (p.rejected.has(t.id)) shown.push({ title: t.title, line: [seg(' ✗ ', red), seg(cells(t), red)] });
    else if (p.unanswered.some((w) => w.id === t.id))
      shown.push({ title: t.title, line: [seg(` ${pendingMark()} `, yellow), seg(cells(t), yellow)] });
    else shown.push({ title: t.title, line: [seg(' ✓ ', green), seg(cells(t))] });
  }
  for (const r of p.rejected.values()) {
    if (!r.gone || r.until <= now) continue;
    const at = shown.findIndex((s) => s.title > r.task.title);
    const line = [
      seg(' ✗ ', red),
      seg(fit(r.task.title, titleW), struck),
      seg(` ${fit('rejected', ownerW + doneW + 1)}`, red),
    ];
    shown.splice(at < 0 ? shown.length : at, 0, { title: r.task.title, line });
  }
  const body = shown.map((s) => s.line);
  if (!p.rows) body.push([seg('   starting…', dim)]);
  else if (!body.length) body.push([seg('   (no tasks)', dim)]);
  if (wide) body.unshift([seg(`   ${fit('TASK', titleW)} ${fit('OWNER', ownerW)} ${fit('DONE', doneW)}`, dim)]);
  return body;
}

function status(p: Pane): Line {
  if (!p.info) return [seg('…', dim)];
  const n = p.info.pending;
  return [seg(`v${p.info.version} · `, dim), seg(`${n} pending`, n ? yellow : dim)];
}

const pad = (body: Line[], rows: number) => [...body, ...Array.from({ length: rows - body.length }, () => [])];

function eventLine(e: Event): Line {
  return clip([seg(` ${e.at.padStart(5)}  `, dim), seg(fit(e.who, 7), bold), seg(e.text, e.paint)], WIDTH);
}

const queryLines = (): Line[] => {
  const words = `live("${cypher}")`.split(' ');
  const lines: string[] = [];
  let line = ' ';
  for (const w of words) {
    if (line.length + w.length + 1 > WIDTH) {
      lines.push(line);
      line = '      ';
    }
    line += `${line.trim() ? ' ' : ''}${w}`;
  }
  return [...lines, line].map((l) => [seg(l, dim)]);
};

const legend: Line = [
  seg(' ✓', green),
  seg(' confirmed   ', dim),
  seg(tty ? SPINNER[0]! : '…', yellow),
  seg(' written, waiting for the server   ', dim),
  seg('✗', red),
  seg(' rejected by the server', dim),
];

function frame(): { header: Line; body: Line[] } {
  const title = ' kuzu-sync · one live query on three clients';
  const clock = `${seconds()} s`;
  const header = [seg(title, bold), seg(clock.padStart(WIDTH - title.length), dim)];
  const viewerBody = paneBody(viewer!, true);
  const body = box('Viewer · reads only', status(viewer!), pad(viewerBody, MIN_ROWS + 1), WIDTH);
  const half = (WIDTH - 1) / 2;
  const [a, b] = writers.map((w) => paneBody(w, false));
  const rows = Math.max(a!.length, b!.length, MIN_ROWS);
  const left = box(`${alice!.name} · writes`, status(alice!), pad(a!, rows), half);
  const right = box(`${bob!.name} · writes`, status(bob!), pad(b!, rows), half);
  for (let i = 0; i < left.length; i++) body.push([...left[i]!, seg(' '), ...right[i]!]);
  return { header, body };
}

// In place: home, each line over the last frame's (clearing what is left of it), then clear below.
// Clearing the whole screen each time would flicker.
let shownEvents = 0;
let lastLog = '';
let scheduled: ReturnType<typeof setTimeout> | undefined;
function draw(): void {
  scheduled = undefined;
  const { header, body } = frame();
  if (tty) {
    const recent = events.slice(-3).map(eventLine);
    const lines = [header, ...queryLines(), ...body, ...pad(recent, 3), legend];
    process.stdout.write(`\x1b[H${lines.map((l) => `${show(l)}\x1b[K`).join('\n')}\n\x1b[J`);
    return;
  }
  const fresh = events.slice(shownEvents).map(eventLine);
  const boxes = body.map(show).join('\n');
  if (boxes === lastLog && !fresh.length) return;
  shownEvents = events.length;
  lastLog = boxes;
  console.log([`\n${show(header)}`, boxes, ...fresh.map(show)].join('\n'));
}

/** Something to show: in place, at the next tick; in a log, once things settle, as one frame. */
function changed(): void {
  if (tty) scheduled ??= setTimeout(draw, 16);
  else {
    clearTimeout(scheduled);
    scheduled = setTimeout(draw, 60);
  }
}

// ---- the story ---------------------------------------------------------------------------------

async function write(w: Pane, entry: Write, glyph: string, act: () => Promise<unknown>): Promise<void> {
  // Queued first, so the first frame that shows its row already marks it unconfirmed.
  w.unanswered.push(entry);
  try {
    await act();
  } catch (e) {
    w.unanswered.splice(w.unanswered.indexOf(entry), 1);
    throw e;
  }
  log(w.name, `${glyph} ${entry.desc}`);
  await sleep(PAUSE_MS);
}

async function add(w: Pane, title: string, owner = w.name): Promise<string> {
  const id = randomUUID();
  const desc = `adds "${title}"${owner === w.name ? '' : ` for ${owner}`}`;
  const task = { id, title, owner, done: null };
  await write(w, { id, desc, task }, '+', () => w.client.createNode('Task', { title, owner, run }, { id }));
  return id;
}
const markDone = (w: Pane, id: string, title: string) =>
  write(w, { id, desc: `marks "${title}" done` }, '✎', () => w.client.setProperty('node', id, 'done', true));
const remove = (w: Pane, id: string, title: string) =>
  write(w, { id, desc: `deletes "${title}"` }, '−', () => w.client.deleteNode(id));

async function until(ok: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`${what} within ${ms / 1000} s`);
    await sleep(50);
  }
}

let failure: Error | undefined;
function fail(e: Error): void {
  failure ??= e;
}

const restoreCursor = () => tty && process.stdout.write('\x1b[?25h');
let ticker: ReturnType<typeof setInterval> | undefined;
if (tty) {
  process.stdout.write('\x1b[?25l\x1b[H\x1b[2J');
  process.on('exit', restoreCursor);
  process.once('SIGINT', () => process.exit(130));
  // The clock and the spinners move even when nothing else does.
  ticker = setInterval(draw, 100);
} else {
  console.log(queryLines().map(show).join('\n'));
  console.log(show(legend));
}
log('server', server ? `embedded at ${server.url}, answers in ${LATENCY_MS} ms` : `at ${serverUrl}`);

try {
  await Promise.all(panes.map((p) => p.client.whenSynced({ timeout: 30_000 })));
  await until(() => panes.every((p) => p.rows), 30_000, 'the live queries did not give a first result');
  await sleep(PAUSE_MS);

  const readme = await add(alice!, 'Write the README');
  const flaky = await add(bob!, 'Fix the flaky test');
  const demo = await add(alice!, 'Record a demo');
  if (server) {
    await add(bob!, 'Hand keys to Mallory', 'Mallory');
    // Long enough for the rejection, the rollback and the struck-out row to be seen.
    await sleep(REJECTED_SHOWN_MS);
  } else log('Bob', '(skipped: only the embedded server refuses Mallory)', dim);
  await markDone(alice!, readme, 'Write the README');
  await add(bob!, 'Tag v0.2');
  await markDone(bob!, flaky, 'Fix the flaky test');
  await remove(alice!, demo, 'Record a demo');

  await Promise.all(writers.map((w) => w.client.whenSynced({ timeout: 30_000 })));
  const same = (p: Pane) => JSON.stringify(p.rows) === JSON.stringify(viewer!.rows);
  await until(
    () =>
      panes.every(
        (p) =>
          same(p) &&
          p.info?.pending === 0 &&
          p.client.getServerVersion() === viewer!.client.getServerVersion() &&
          [...p.rejected.values()].every((r) => r.gone && r.until <= Date.now()),
      ),
    15_000,
    'the three views did not agree',
  );
  if (failure) throw failure;
  if (tty) await sleep(1000);
  clearTimeout(scheduled);
  clearInterval(ticker);
  draw();

  const rejected = writers.reduce((n, w) => n + w.client.getMetrics().patchesRejected, 0);
  const confirmed = writers.reduce((n, w) => n + w.client.getMetrics().patchesAccepted, 0);
  console.log(
    `\n Done in ${seconds()} s: the viewer, Alice and Bob show the same ${viewer!.rows!.length} tasks` +
      ` at v${viewer!.client.getServerVersion()}.\n ${confirmed + rejected} writes: ${confirmed} confirmed,` +
      ` ${rejected} rejected by the server and rolled back.`,
  );
} catch (e) {
  clearTimeout(scheduled);
  clearInterval(ticker);
  draw();
  console.error(`\n ${(e as Error).message}`);
  process.exitCode = 1;
} finally {
  clearTimeout(scheduled);
  clearInterval(ticker);
  restoreCursor();
  await Promise.all(panes.map((p) => p.client.close()));
  await server?.close();
}
