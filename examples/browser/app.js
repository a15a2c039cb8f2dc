// The example page's script (plain JavaScript, served as is by serve.ts): the browser bundle's
// createSyncClient against the sync server named in /config.json, a live query drawn as a list, a
// form that writes, and an offline switch.
import { createSyncClient } from './kuzu-sync.js';

const $ = (id) => document.getElementById(id);

// The offline switch cuts this page's network to the sync server: open sockets are closed and new
// ones fail as a dropped network does (close 1006), so the client keeps retrying with its backoff
// and its writes wait in the outbox. The client itself stays open: its graph and pending writes are
// in memory (no databasePath), and closing it would drop them.
const NativeWebSocket = window.WebSocket;
const sockets = new Set();
let offline = false;
function SwitchableWebSocket(url, protocols) {
  if (offline) return unreachable();
  const ws = new NativeWebSocket(url, protocols);
  sockets.add(ws);
  ws.addEventListener('close', () => sockets.delete(ws));
  return ws;
}
function unreachable() {
  const ws = { readyState: 3, binaryType: 'arraybuffer', onopen: null, onmessage: null, onclose: null, onerror: null };
  ws.send = () => {
    throw new Error('offline');
  };
  ws.close = () => {};
  setTimeout(() => {
    ws.onerror?.();
    ws.onclose?.({ code: 1006, reason: 'offline (the switch)' });
  }, 50);
  return ws;
}
window.WebSocket = SwitchableWebSocket;

const { serverUrl } = await (await fetch('/config.json')).json();
const client = await createSyncClient({
  serverUrl,
  reconnectInterval: 250,
  maxReconnectInterval: 1000,
  heartbeatInterval: 5000,
}).catch((e) => {
  // Say so on the page: a client that cannot open would otherwise leave it at "starting…".
  $('status').textContent = `failed to start: ${e.message}`;
  throw e;
});
const author = client.clientId.slice(0, 8);
$('client').textContent = author;

function showState() {
  const status = client.getStatus();
  $('status').textContent = status;
  $('status').className = status;
  $('pending').textContent = String(client.getPendingPatchCount());
  $('version').textContent = String(client.getServerVersion());
}
for (const event of ['status', 'accepted', 'rejected', 'patch']) client.on(event, showState);
client.on('error', (e) => {
  $('error').textContent = `${e.code}: ${e.message}`;
});
setInterval(showState, 250);
showState();

function draw(rows) {
  const list = $('notes');
  list.replaceChildren();
  if (rows.length === 0) {
    const li = document.createElement('li');
    li.className = 'empty';
    li.textContent = 'no notes yet';
    list.append(li);
  }
  for (const row of rows) {
    const li = document.createElement('li');
    li.className = 'note';
    const text = document.createElement('span');
    text.textContent = row.text;
    const by = document.createElement('span');
    by.className = 'by';
    by.textContent = `by ${row.author}`;
    li.append(text, by);
    list.append(li);
  }
}
// Until the first note exists anywhere, (:Note) is an unknown label: the live query yields [].
client
  .live('MATCH (n:Note) RETURN n.text AS text, n.author AS author ORDER BY n.at, n.id')
  .subscribe((rows) => {
    draw(rows);
    showState();
  });

$('add').addEventListener('submit', async (e) => {
  e.preventDefault();
  const text = $('text').value.trim();
  if (!text) return;
  $('text').value = '';
  try {
    await client.createNode('Note', { text, author, at: Date.now() });
    $('error').textContent = '';
  } catch (err) {
    $('error').textContent = `${err.code ?? 'error'}: ${err.message}`;
  }
  showState();
});

$('offline').addEventListener('change', () => {
  offline = $('offline').checked;
  if (offline) for (const ws of sockets) ws.close(3000, 'offline (the switch)');
  else client.connect();
  showState();
});

window.example = { client, ready: true };
document.body.dataset.ready = 'true';
