// The sample's chat page: plain JavaScript on the client SDK, which the sample serves at /client/.
import { RealtimeClient } from '/client/index.js';

const $ = (selector) => document.querySelector(selector);
const TYPING_SHOWN_MS = 3000;

let client;
let me;
let myStatus = 'online';
const rooms = new Map(); // room name -> { subscription, messages: element[], typing: { user, timer } | undefined }
let current; // the room shown

async function fetchToken(name) {
  const response = await fetch(`/api/token?user=${encodeURIComponent(name)}`);
  if (!response.ok) {
    throw new Error(`The name "${name}" was refused (${response.status})`);
  }
  return (await response.json()).token;
}

function line(text, className, sender) {
  const item = document.createElement('li');
  if (className) item.className = className;
  if (sender) {
    const who = document.createElement('span');
    who.className = 'sender';
    who.textContent = sender;
    item.append(who);
  }
  item.append(document.createTextNode(text));
  return item;
}

function show(name, item) {
  const room = rooms.get(name);
  room.messages.push(item);
  if (name === current) {
    $('#messages').append(item);
    item.scrollIntoView({ block: 'end' });
  }
}

function renderMembers() {
  const list = $('#members');
  list.replaceChildren();
  const room = rooms.get(current);
  for (const member of room ? room.subscription.members : []) {
    const item = document.createElement('li');
    const status = (member.info && member.info.status) || 'online';
    item.textContent = `${member.userId === me ? `${member.userId} (you)` : member.userId} · ${status}`;
    item.dataset.user = member.userId;
    item.dataset.status = status;
    if (member.info && member.info.color) item.style.setProperty('--color', member.info.color);
    list.append(item);
  }
}

/** Shows who is typing in a room, until they send or stop for a few seconds. */
function showTyping(name, user) {
  const room = rooms.get(name);
  clearTimeout(room.typing?.timer);
  room.typing = { user, timer: setTimeout(() => clearTyping(name), TYPING_SHOWN_MS) };
  if (name === current) $('#typing').textContent = `${user} is typing...`;
}

function clearTyping(name, user) {
  const room = rooms.get(name);
  if (!room?.typing || (user !== undefined && room.typing.user !== user)) return;
  clearTimeout(room.typing.timer);
  room.typing = undefined;
  if (name === current) $('#typing').textContent = '';
}

/** Tells a room this user's status; the server shows it to every member. */
function sendStatus(name) {
  client.request('presence:status', { status: myStatus }, { channel: `room:${name}` }).catch((error) => {
    notice(`Status not set in ${name}: ${error.code}`, 'alert');
  });
}

function renderRooms() {
  const list = $('#rooms');
  list.replaceChildren();
  for (const name of rooms.keys()) {
    const item = document.createElement('li');
    item.textContent = `# ${name}`;
    item.className = name === current ? 'current' : '';
    item.onclick = () => select(name);
    list.append(item);
  }
}

function select(name) {
  current = name;
  $('#room-title').textContent = name ? `# ${name}` : 'No room';
  $('#messages').replaceChildren(...(rooms.get(name)?.messages ?? []));
  const typing = rooms.get(name)?.typing;
  $('#typing').textContent = typing ? `${typing.user} is typing...` : '';
  renderRooms();
  renderMembers();
}

async function join(name) {
  if (rooms.has(name)) return select(name);
  const subscription = client.subscribe(`room:${name}`);
  rooms.set(name, { subscription, messages: [], typing: undefined });
  subscription.on('chat:group', (payload, message) => {
    clearTyping(name, message.sender); // they sent what they were typing
    show(name, line(payload.text, '', message.sender));
  });
  subscription.on('join', (member) => {
    show(name, line(`${member.userId} joined`, 'system'));
    if (name === current) renderMembers();
  });
  subscription.on('leave', (member) => {
    show(name, line(`${member.userId} left`, 'system'));
    if (name === current) renderMembers();
  });
  subscription.on('update', () => {
    if (name === current) renderMembers();
  });
  subscription.on('whisper', (payload, whisper) => {
    if (whisper.event === 'typing') showTyping(name, whisper.sender);
  });
  subscription.on('subscribed', (info) => {
    if (!info.recovered) show(name, line('Some messages were missed while offline', 'system'));
    if (name === current) renderMembers();
  });
  select(name);
  await subscription.ready;
  renderMembers();
  if (myStatus !== 'online') sendStatus(name);
}

async function leave() {
  const room = rooms.get(current);
  if (!room) return;
  rooms.delete(current);
  await room.subscription.unsubscribe();
  select(rooms.keys().next().value);
}

function notice(text, className) {
  const item = document.createElement('li');
  item.className = className;
  item.textContent = text;
  $('#notices').prepend(item);
}

$('#login').onsubmit = async (event) => {
  event.preventDefault();
  me = $('#name').value.trim();
  const url = new URL('/realtime', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  // getToken runs before every connect: a reconnect after the token expired gets a fresh one.
  client = new RealtimeClient(url.toString(), { getToken: () => fetchToken(me) });
  client.on('state', ({ to }) => {
    $('#state').textContent = to;
    $('#state').className = `state ${to}`;
  });
  client.on('error', (error) => notice(`${error.code}: ${error.message}`, 'alert'));
  client.on('chat:private', (payload, message) => {
    const from = message.sender === me ? `to ${message.recipient}` : `from ${message.sender}`;
    if (current) show(current, line(`(direct ${from}) ${payload.text}`, 'direct'));
  });
  client.on('notification', (payload) => notice(`${payload.title}: ${payload.body}`, 'notification'));
  client.on('alert', (payload) => notice(`${payload.title}: ${payload.body}`, 'alert'));
  await client.connect();
  $('#login').hidden = true;
  $('#chat').hidden = false;
  await join($('#room-name').value.trim());
};

$('#join').onsubmit = (event) => {
  event.preventDefault();
  void join($('#room-name').value.trim());
};

// While the connection is down (reconnecting), the client SDK keeps what is sent and sends it once it is back: the
// message shows as "sending..." meanwhile, and comes back into the input if it could not be sent.
$('#send').onsubmit = async (event) => {
  event.preventDefault();
  const text = $('#text').value;
  const name = current;
  if (!name || !text) return;
  $('#text').value = '';
  const pending = line(`${text} (sending...)`, 'pending', me);
  show(name, pending);
  try {
    await client.request('chat:group', { text }, { channel: `room:${name}`, timeoutMs: 60_000 });
  } catch (error) {
    if (!$('#text').value) $('#text').value = text;
    notice(`Not sent: ${error.code}`, 'alert');
  } finally {
    const room = rooms.get(name);
    if (room) room.messages = room.messages.filter((item) => item !== pending);
    pending.remove();
  }
};

$('#status').onchange = () => {
  myStatus = $('#status').value;
  for (const name of rooms.keys()) sendStatus(name);
};

let lastTyping = 0;
$('#text').oninput = () => {
  const room = rooms.get(current);
  if (room && Date.now() - lastTyping > 1000) {
    lastTyping = Date.now();
    room.subscription.whisper('typing', {});
  }
};

$('#leave').onclick = () => void leave();

$('#direct').onsubmit = async (event) => {
  event.preventDefault();
  const recipient = $('#dm-to').value.trim();
  const text = $('#dm-text').value;
  try {
    await client.request('chat:private', { text }, { recipient });
    $('#dm-text').value = '';
    if (current) show(current, line(`(direct to ${recipient}) ${text}`, 'direct'));
  } catch (error) {
    notice(`Not sent: ${error.code}`, 'alert');
  }
};
