// The load generator of `make bench`: Socket.IO clients spoken directly over WebSocket.
//
// One Node process, driven by bench/run.py: it reads one JSON job on stdin and prints one
// JSON result line on stdout (progress goes to stderr). It speaks Engine.IO v4 /
// Socket.IO v5 itself with the `ws` package (open packet, namespace connect with
// `auth: {token}`, events with ack ids, ping/pong), so a client costs a socket and a few
// objects, and one process on one core can drive the server harder than it can answer.
// It measures itself (its CPU and event-loop delay) to show it is not the bottleneck.
//
// Jobs (`job.kind`):
//   load    rooms of clients; some send `message` events, paced (`rate` per second each)
//           or closed-loop (`inflight` unacknowledged at a time). Every message carries
//           its sender, its number and its send time in its content; every `new_message`
//           is counted per receiver: latency, lost, duplicated, reordered.
//   idle    open up to `connections` sockets and hold them; the server's RSS per socket.
//   history time GET /api/rooms/<id>/messages pages at random `before` points.

import { readFileSync, readdirSync } from "node:fs";
import http from "node:http";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import WebSocket from "ws";

const job = JSON.parse(readFileSync(0, "utf8"));
const NS = job.namespace ?? "/chat";
const NS_PREFIX = NS === "/" ? "" : `${NS},`;
const CLK_TCK = job.clk_tck ?? 100;
const LOOP_RESOLUTION_MS = 1;
const log = (...parts) => process.stderr.write(`loadgen: ${parts.join(" ")}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => performance.now();

// -- numbers ------------------------------------------------------------------------

/** A growable array of doubles: millions of latency samples without boxing. */
class Samples {
  constructor() {
    this.data = new Float64Array(1 << 16);
    this.length = 0;
  }
  push(value) {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }
  summary() {
    const sorted = this.data.slice(0, this.length).sort();
    const at = (q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] : null);
    let sum = 0;
    for (const value of sorted) sum += value;
    return {
      n: sorted.length,
      p50: round(at(0.5)),
      p95: round(at(0.95)),
      p99: round(at(0.99)),
      max: round(sorted.length ? sorted[sorted.length - 1] : null),
      mean: round(sorted.length ? sum / sorted.length : null),
    };
  }
}

/** One bit per message number (a byte, for speed), growing as numbers come. */
class Marks {
  constructor() {
    this.data = new Uint8Array(256);
  }
  get(n) {
    return n < this.data.length ? this.data[n] : 0;
  }
  set(n) {
    if (n >= this.data.length) {
      let size = this.data.length;
      while (size <= n) size *= 2;
      const bigger = new Uint8Array(size);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[n] += 1;
    return this.data[n];
  }
}

const round = (value, places = 3) => (value === null ? null : Number(value.toFixed(places)));

// -- the server processes, from /proc -------------------------------------------------

function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime + stime
  } catch {
    return null;
  }
}

function rssKb(pid) {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

function fdCount(pid) {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

/** Busy and stolen ticks of each core so far, from /proc/stat. */
function coreTicks() {
  const cores = [];
  for (const line of readFileSync("/proc/stat", "utf8").split("\n")) {
    const match = /^cpu(\d+) (.*)$/.exec(line);
    if (!match) continue;
    const [user, nice, system, idle, iowait, irq, softirq, steal] = match[2].split(" ").map(Number);
    cores.push({ core: Number(match[1]), busy: user + nice + system + irq + softirq, steal, idle: idle + iowait });
  }
  return cores;
}

/** CPU of the servers, of each core and of this process over a window of wall time. */
class Meter {
  constructor(pids) {
    this.pids = pids;
    this.helpers = job.helper_pids ?? []; // e.g. Redis: part of the work, not a server
    this.wall = now();
    this.cores = coreTicks();
    this.cpu = pids.map(cpuSeconds);
    this.helperCpu = this.helpers.map(cpuSeconds);
    this.self = process.cpuUsage();
    // The histogram holds whole timer periods: less the period, what remains is how
    // late this process was to run a ready callback.
    this.loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    this.loop.enable();
  }
  read() {
    const seconds = (now() - this.wall) / 1000;
    const own = process.cpuUsage(this.self);
    this.loop.disable();
    const servers = this.pids.map((pid, i) => {
      const used = cpuSeconds(pid) - this.cpu[i];
      return { pid, cpu_s: round(used), cpu_pct: round((100 * used) / seconds, 1), rss_kb: rssKb(pid) };
    });
    const ownSeconds = (own.user + own.system) / 1e6;
    // Per core, what share of the window it was busy (anyone's work) or stolen by the host.
    const cores = coreTicks().map((after, i) => {
      const before = this.cores[i];
      const pct = (ticks) => round((100 * ticks) / CLK_TCK / seconds, 1);
      return { core: after.core, busy_pct: pct(after.busy - before.busy), steal_pct: pct(after.steal - before.steal) };
    });
    const helpers = this.helpers.map((pid, i) => {
      const used = cpuSeconds(pid) - this.helperCpu[i];
      return { pid, cpu_s: round(used), cpu_pct: round((100 * used) / seconds, 1) };
    });
    return {
      seconds,
      servers,
      helpers,
      cores,
      generator: {
        cpu_s: round(ownSeconds),
        cpu_pct: round((100 * ownSeconds) / seconds, 1),
        loop_delay_p99_ms: round(Math.max(0, this.loop.percentile(99) / 1e6 - LOOP_RESOLUTION_MS)),
        loop_delay_max_ms: round(Math.max(0, this.loop.max / 1e6 - LOOP_RESOLUTION_MS)),
      },
    };
  }
}

// -- one Socket.IO client -------------------------------------------------------------

const wsUrl = (base) => `${base.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`;

class Client {
  constructor(index, base, token) {
    this.index = index;
    this.base = base;
    this.token = token;
    this.nextAck = 1;
    this.acks = new Map();
    this.onEvent = null; // (name, data, arrivedAt) => void
    this.closed = false;
  }

  /** Open the socket and connect the namespace; resolves true, or false on refusal. */
  connect(timeoutMs) {
    return new Promise((resolve) => {
      let settled = false;
      const settle = (ok, why) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (!ok) {
          this.failure = why;
          this.close();
        }
        resolve(ok);
      };
      const timer = setTimeout(() => settle(false, "timeout"), timeoutMs);
      this.settle = settle;
      const ws = new WebSocket(wsUrl(this.base), { perMessageDeflate: false, skipUTF8Validation: true });
      this.ws = ws;
      ws.on("message", (data) => this.frame(data.toString(), now()));
      ws.on("error", (error) => settle(false, error.code ?? "error"));
      ws.on("close", () => {
        this.closed = true;
        settle(false, "closed");
      });
    });
  }

  send(text) {
    if (!this.closed && this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
  }

  /** Emit `event` with an ack id; `onAck(data, arrivedAt)` gets the first ack argument. */
  emit(event, data, onAck) {
    const id = this.nextAck++;
    this.acks.set(id, onAck);
    this.send(`42${NS_PREFIX}${id}${JSON.stringify([event, data])}`);
    return id;
  }

  call(event, data, timeoutMs = 10000) {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ ok: false, error: { code: "timeout" } }), timeoutMs);
      this.emit(event, data, (ack) => {
        clearTimeout(timer);
        resolve(ack);
      });
    });
  }

  /** One Engine.IO packet: `0` open, `2` ping, `4…` a Socket.IO packet. */
  frame(text, arrivedAt) {
    const kind = text.charCodeAt(0);
    if (kind === 50 /* 2: ping */) {
      this.send("3");
    } else if (kind === 52 /* 4: message */) {
      this.packet(text, arrivedAt);
    } else if (kind === 48 /* 0: open */) {
      this.send(`40${NS_PREFIX}${JSON.stringify({ token: this.token })}`);
    } else if (kind === 49 /* 1: close */) {
      this.close();
    }
  }

  packet(text, arrivedAt) {
    const type = text.charCodeAt(1);
    let at = 2;
    if (NS_PREFIX) {
      if (!text.startsWith(NS_PREFIX, 2)) return; // another namespace: not ours
      at += NS_PREFIX.length;
    }
    if (type === 50 /* 2: EVENT */) {
      let end = at;
      while (text.charCodeAt(end) >= 48 && text.charCodeAt(end) <= 57) end++;
      const [name, data] = JSON.parse(text.slice(end));
      if (this.onEvent) this.onEvent(name, data, arrivedAt);
    } else if (type === 51 /* 3: ACK */) {
      let end = at;
      while (text.charCodeAt(end) >= 48 && text.charCodeAt(end) <= 57) end++;
      const id = Number(text.slice(at, end));
      const callback = this.acks.get(id);
      if (callback) {
        this.acks.delete(id);
        callback(JSON.parse(text.slice(end))[0], arrivedAt);
      }
    } else if (type === 48 /* 0: CONNECT */) {
      this.settle?.(true);
    } else if (type === 52 /* 4: CONNECT_ERROR */) {
      let why = "connect_error";
      try {
        why = JSON.parse(text.slice(at)).message ?? why;
      } catch {}
      this.settle?.(false, why);
    } else if (type === 49 /* 1: DISCONNECT */) {
      this.close();
    }
  }

  close() {
    this.closed = true;
    try {
      this.ws?.terminate();
    } catch {}
  }
}

/** Connect `clients` with at most `concurrency` handshakes at a time. */
async function connectAll(clients, concurrency, timeoutMs) {
  let next = 0;
  const failures = {};
  async function worker() {
    while (next < clients.length) {
      const client = clients[next++];
      if (!(await client.connect(timeoutMs))) failures[client.failure] = (failures[client.failure] ?? 0) + 1;
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, clients.length) }, worker));
  return failures;
}

// -- load: rooms, senders, receivers ---------------------------------------------------

async function load() {
  const servers = job.servers; // [{url, pid}]
  const warmupMs = (job.warmup ?? 1) * 1000;
  const durationMs = job.duration * 1000;
  const pad = "x".repeat(Math.max(0, (job.content_length ?? 48) - 24));
  // client_ids unique to this run: a repeated one is, rightly, not a new message.
  const run = Math.random().toString(36).slice(2, 8);

  // Clients and rooms; a room's clients are spread over the servers in turn.
  const clients = [];
  const rooms = job.rooms.map((spec, r) => {
    const room = { id: spec.id, index: r, members: [], senders: [], acked: 0 };
    spec.tokens.forEach((token, i) => {
      const client = new Client(clients.length, servers[clients.length % servers.length].url, token);
      client.room = room;
      client.recv = []; // per sender of the room: Marks of message numbers received
      client.lastSeq = 0;
      client.lastN = [];
      clients.push(client);
      room.members.push(client);
      if (i < spec.senders) room.senders.push(client);
    });
    return room;
  });
  const senders = [];
  for (const room of rooms) {
    room.senders.forEach((client, local) => {
      client.sender = { global: senders.length, local, room, sent: 0, acked: new Marks(), nacked: 0 };
      senders.push(client);
    });
  }
  log(`${job.label ?? "load"}: connecting ${clients.length} clients to ${servers.length} server(s)`);
  const failures = await connectAll(clients, job.connect_concurrency ?? 50, job.connect_timeout_ms ?? 15000);
  const connected = clients.filter((c) => !c.closed);
  const joinAcks = await Promise.all(connected.map((c) => c.call("join", { room_id: c.room.id }, 30000)));
  const joinErrors = joinAcks.filter((ack) => !ack || ack.ok !== true);
  for (const room of rooms) room.members = room.members.filter((c) => !c.closed);
  const joined = connected.length - joinErrors.length;
  if (joinErrors.length) log(`join refused ${joinErrors.length}x: ${JSON.stringify(joinErrors[0])}`);

  // Receiving: every new_message, counted per receiver.
  const latency = new Samples();
  let windowStart = Infinity;
  let windowEnd = Infinity;
  let deliveries = 0;
  let inWindow = 0;
  let duplicated = 0;
  let reordered = 0;
  let reorderedSender = 0;
  let foreign = 0;
  function onEvent(name, message, arrivedAt) {
    if (name !== "new_message") return;
    deliveries++;
    const [g, n, sentAt] = String(message.content).split(" ", 3).map(Number);
    const sender = senders[g]?.sender;
    if (!sender || sender.room !== this.room || !Number.isInteger(n)) {
      foreign++;
      return;
    }
    if (arrivedAt >= windowStart && arrivedAt < windowEnd) inWindow++;
    const marks = (this.recv[sender.local] ??= new Marks());
    if (marks.set(n) > 1) {
      duplicated++;
      return;
    }
    if (message.seq < this.lastSeq) reordered++;
    else this.lastSeq = message.seq;
    if (n < (this.lastN[sender.local] ?? -1)) reorderedSender++;
    else this.lastN[sender.local] = n;
    if (sentAt >= windowStart && sentAt < windowEnd) latency.push(arrivedAt - sentAt);
  }
  for (const client of clients) client.onEvent = onEvent;

  // Sending: paced or closed-loop; the content carries "sender number sendtime".
  const ackLatency = new Samples();
  let sending = true;
  let acksInWindow = 0;
  let reposts = 0;
  let outstanding = 0;
  function send(client) {
    const sender = client.sender;
    const n = sender.sent++;
    const sentAt = now();
    outstanding++;
    const content = `${sender.global} ${n} ${sentAt.toFixed(3)} ${pad}`;
    client.emit("message", { room_id: sender.room.id, content, client_id: `${run}-${sender.global}-${n}` }, (ack, arrivedAt) => {
      outstanding--;
      if (ack && ack.ok === true && ack.created === false) {
        reposts++; // the server took it for an earlier message: nothing to deliver
      } else if (ack && ack.ok === true) {
        sender.acked.set(n);
        sender.room.acked++;
        if (arrivedAt >= windowStart && arrivedAt < windowEnd) acksInWindow++;
        if (sentAt >= windowStart && sentAt < windowEnd) ackLatency.push(arrivedAt - sentAt);
      } else {
        sender.nacked++;
        if (sender.nacked === 1) log(`message refused: ${JSON.stringify(ack)}`);
      }
      if (job.inflight && sending && !client.closed) send(client);
    });
  }
  const active = senders.filter((c) => !c.closed);
  const started = now();
  if (job.inflight) {
    for (const client of active) for (let i = 0; i < job.inflight; i++) send(client);
  } else {
    const interval = 1000 / job.rate;
    for (const client of active) {
      // An open loop on an absolute schedule, each sender at a random phase: a slow
      // server gets the same offered load, and its delay shows in the latency.
      let due = started + Math.random() * interval;
      const tick = () => {
        if (!sending || client.closed) return;
        while (due <= now()) {
          send(client);
          due += interval;
        }
        setTimeout(tick, due - now());
      };
      setTimeout(tick, due - now());
    }
  }
  await sleep(warmupMs);
  windowStart = now();
  const meter = new Meter(servers.map((s) => s.pid));
  await sleep(durationMs);
  sending = false;
  windowEnd = now();
  const measured = meter.read();

  // Drain: every ack back, and every acked message at every member, or the deadline.
  const expected = () => rooms.reduce((sum, room) => sum + room.acked * room.members.length, 0);
  const drainUntil = now() + (job.drain ?? 10) * 1000;
  while (now() < drainUntil && (outstanding > 0 || deliveries - duplicated - foreign < expected())) {
    await sleep(20);
  }
  const drainedMs = now() - windowEnd;

  // Loss: an acknowledged message any member of its room never received.
  let lost = 0;
  let deliveredUnacked = 0;
  let sent = 0;
  let acked = 0;
  let nacked = 0;
  for (const client of senders) {
    const sender = client.sender;
    sent += sender.sent;
    nacked += sender.nacked;
    for (let n = 0; n < sender.sent; n++) {
      const ok = sender.acked.get(n) > 0;
      if (ok) acked++;
      for (const member of sender.room.members) {
        const got = member.recv[sender.local]?.get(n) > 0;
        if (ok && !got) lost++;
        if (!ok && got) deliveredUnacked++;
      }
    }
  }
  for (const client of clients) client.close();

  const seconds = measured.seconds;
  return {
    kind: "load",
    label: job.label,
    clients: clients.length,
    connected: connected.length,
    joined,
    connect_failures: failures,
    rooms: rooms.length,
    senders: senders.length,
    window_s: round(seconds),
    drain_s: round(drainedMs / 1000),
    sent,
    acked,
    nacked,
    reposts,
    unacked: sent - acked - nacked - reposts,
    expected_deliveries: expected(),
    deliveries,
    msgs_in_per_s: round(acksInWindow / seconds, 1),
    deliveries_per_s: round(inWindow / seconds, 1),
    latency_ms: latency.summary(),
    ack_latency_ms: ackLatency.summary(),
    lost,
    duplicated,
    reordered,
    reordered_sender: reorderedSender,
    delivered_unacked: deliveredUnacked,
    foreign,
    servers: measured.servers,
    helpers: measured.helpers,
    cores: measured.cores,
    generator: measured.generator,
  };
}

// -- idle: how many sockets one process holds, and what each costs ------------------------

async function idle() {
  const server = job.servers[0];
  const target = job.connections;
  const concurrency = job.connect_concurrency ?? 200;
  const attemptMs = job.attempt_timeout_ms ?? 5000;
  const stallMs = job.stall_ms ?? 5000;
  const rssBefore = rssKb(server.pid);
  const fdsBefore = fdCount(server.pid);
  const meter = new Meter([server.pid]);
  const clients = [];
  const failures = {};
  let accepted = 0;
  let lastAccept = now();
  let next = 0;
  let stalled = false;
  log(`${job.label ?? "idle"}: opening up to ${target} sockets`);
  const deadline = now() + (job.deadline_ms ?? 60000);
  let late = false;
  async function worker() {
    while (next < target && !stalled && !(late = late || now() > deadline)) {
      const client = new Client(next++, server.url, job.token);
      clients.push(client);
      if (await client.connect(attemptMs)) {
        accepted++;
        lastAccept = now();
      } else {
        failures[client.failure] = (failures[client.failure] ?? 0) + 1;
        // Sockets that hang unanswered: the server has stopped accepting. Stop trying
        // rather than wait out thousands of timeouts.
        if (now() - lastAccept > stallMs) stalled = true;
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const connectSeconds = (now() - meter.wall) / 1000;
  const measured = meter.read();
  await sleep((job.hold ?? 2) * 1000);
  const held = clients.filter((c) => !c.closed).length;
  const rssAfter = rssKb(server.pid);
  const fdsAfter = fdCount(server.pid);
  for (const client of clients) client.close();
  return {
    kind: "idle",
    label: job.label,
    target,
    attempted: next,
    accepted,
    held,
    failures,
    stalled,
    deadline_passed: late,
    connect_s: round(connectSeconds),
    rss_before_kb: rssBefore,
    rss_after_kb: rssAfter,
    rss_per_conn_kb: held ? round((rssAfter - rssBefore) / held, 1) : null,
    server_fds: fdsAfter === null ? null : fdsAfter - fdsBefore,
    servers: measured.servers,
    helpers: measured.helpers,
    cores: measured.cores,
    generator: measured.generator,
  };
}

// -- history: one page of a long room, at random points ---------------------------------

async function history() {
  const server = job.servers[0];
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const url = new URL(server.url);
  const get = (before) =>
    new Promise((resolve, reject) => {
      const request = http.get(
        {
          agent,
          host: url.hostname,
          port: url.port,
          path: `/api/rooms/${job.room_id}/messages?before=${before}&limit=${job.limit ?? 50}`,
          headers: { Authorization: `Bearer ${job.token}` },
        },
        (response) => {
          const chunks = [];
          response.on("data", (chunk) => chunks.push(chunk));
          response.on("end", () => resolve({ status: response.statusCode, body: Buffer.concat(chunks) }));
        },
      );
      request.on("error", reject);
    });
  const pick = () => 1 + job.limit + Math.floor(Math.random() * (job.max_seq - job.limit));
  let bad = 0;
  let short = 0;
  for (let i = 0; i < (job.warmup_requests ?? 20); i++) await get(pick());
  const samples = new Samples();
  const meter = new Meter([server.pid]);
  const deadline = now() + (job.duration ?? 5) * 1000;
  let count = 0;
  while (count < job.requests && now() < deadline) {
    const started = now();
    const { status, body } = await get(pick());
    samples.push(now() - started);
    count++;
    if (status !== 200) bad++;
    else if (count % 50 === 1 && JSON.parse(body).messages.length !== (job.limit ?? 50)) short++;
  }
  const measured = meter.read();
  agent.destroy();
  return {
    kind: "history",
    label: job.label,
    requests: count,
    errors: bad,
    short_pages: short,
    requests_per_s: round(count / measured.seconds, 1),
    latency_ms: samples.summary(),
    servers: measured.servers,
    helpers: measured.helpers,
    cores: measured.cores,
    generator: measured.generator,
  };
}

const kinds = { load, idle, history };
const result = await kinds[job.kind]();
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
