// `npm run bench`: drives each server in its own process (pinned to core 1) from this process (core 0), scenario by
// scenario, several runs each, and writes the medians to bench/results/. Options: --runs N, --quick (1 run, short).
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { median } from './lib/numbers.js';
import { renderReport, type ScenarioResults } from './lib/report.js';
import { busyMemory, connectRate, fanOut, idleMemory, joinRoom, requestAck } from './lib/scenarios.js';
import { startBackends } from './lib/backends.js';
import { HAS_TASKSET, SCALE_OUT_BACKENDS, TARGETS, type Target, pinSelf, startServer } from './lib/targets.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const durationMs = quick ? 1500 : 4000;
const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const runs = quick ? 1 : Number(option('--runs') ?? 3);
/** `--only <text>`: scenarios whose title contains it; `--target <text>`: servers whose name does. */
const only = option('--only');
const targetFilter = option('--target');
/** `--profile <dir>`: run the servers with --cpu-prof, writing profiles there (results are then not saved). */
const profileDir = option('--profile');

/** The scale-out rows' channel: `plain:` on the library's bench app. */
const SCALE_OUT_CHANNEL = 'plain:bench';

interface Scenario {
  readonly title: string;
  /** Only these servers (default: every server without an `onlyIn` elsewhere). */
  readonly targets?: readonly string[];
  readonly measure: (target: Target, server: Awaited<ReturnType<typeof startServer>>) => Promise<object>;
}

/**
 * One instance in-process, then one and two instances on each backend (subscribers split between the two, the
 * publisher on the first, so half the deliveries cross instances).
 */
const BACKEND_COMPARISON = [
  'nestjs-realtime',
  ...SCALE_OUT_BACKENDS.flatMap((backend) => [
    `nestjs-realtime on ${backend}, 1 instance`,
    `nestjs-realtime on ${backend}, 2 instances`,
  ]),
];

const SCENARIOS: readonly Scenario[] = [
  {
    title: 'Fan-out, 1,000 subscribers, paced at 30,000 deliveries/s',
    measure: (target, server) => fanOut(target, server, { subscribers: 1000, durationMs, rate: 30_000 }),
  },
  {
    title: 'Fan-out, 5,000 subscribers, paced at 30,000 deliveries/s',
    measure: (target, server) => fanOut(target, server, { subscribers: 5000, durationMs, rate: 30_000 }),
  },
  {
    title: 'Fan-out, 1,000 subscribers, unpaced (16 publishes in flight)',
    measure: (target, server) => fanOut(target, server, { subscribers: 1000, durationMs }),
  },
  {
    title: 'Fan-out, 5,000 subscribers, unpaced (16 publishes in flight)',
    measure: (target, server) => fanOut(target, server, { subscribers: 5000, durationMs }),
  },
  {
    title: 'Fan-out across instances, 1,000 subscribers, paced at 10,000 deliveries/s',
    targets: BACKEND_COMPARISON,
    // A plain channel: these rows compare the transports (presence and history across instances are their own cost).
    measure: (target, server) =>
      fanOut(target, server, { subscribers: 1000, durationMs, rate: 10_000, channel: SCALE_OUT_CHANNEL }),
  },
  {
    title: 'Fan-out across instances, 1,000 subscribers, unpaced (16 publishes in flight)',
    targets: BACKEND_COMPARISON,
    measure: (target, server) => fanOut(target, server, { subscribers: 1000, durationMs, channel: SCALE_OUT_CHANNEL }),
  },
  {
    title: 'Request/ack, 200 clients in a closed loop',
    measure: (target, server) => requestAck(target, server, { clients: 200, durationMs }),
  },
  {
    title: 'Idle memory, 10,000 connections in 100 channels',
    measure: (target, server) => idleMemory(target, server, { connections: quick ? 2000 : 10_000, channels: 100 }),
  },
  {
    title: 'Memory with permessage-deflate: 2,000 connections, each sent and received 1.5 KB messages',
    targets: [
      'nestjs-realtime',
      'nestjs-realtime, permessage-deflate (default settings)',
      'nestjs-realtime, permessage-deflate (window bits 10, memLevel 4)',
    ],
    measure: (target, server) =>
      busyMemory(target, server, { connections: quick ? 500 : 2000, channels: 20, textLength: 1500 }),
  },
  {
    title: 'Joining one room, 10,000 clients at once',
    targets: ['nestjs-realtime, plain room', "nestjs-realtime, presence room (the sample's room:)"],
    measure: (target, server) => joinRoom(target, server, { clients: quick ? 2000 : 10_000 }),
  },
  {
    title: 'Connect rate (nestjs-realtime verifies a JWT; the others authenticate nothing)',
    measure: (target, server) =>
      connectRate(target, server, { connections: quick ? 500 : 2000, concurrency: 50, warmup: 50 }),
  },
  {
    // The same once the server has taken 5,000 connections (its JIT warm): the row above is a fresh server's first
    // connections, as after a deploy.
    title: 'Connect rate after 5,000 connections (warmed up; otherwise the same)',
    measure: (target, server) =>
      connectRate(target, server, { connections: quick ? 500 : 2000, concurrency: 50, warmup: quick ? 1000 : 5000 }),
  },
];

pinSelf();
const results: ScenarioResults[] = [];
const selected = SCENARIOS.filter(({ title }) => only === undefined || title.includes(only));
// The scale-out rows need a Redis Cluster and a NATS of their own: started for the run, stopped after it.
const backends = selected.some(({ targets }) => targets === BACKEND_COMPARISON) ? await startBackends() : undefined;
for (const scenario of selected) {
  const byTarget: ScenarioResults['byTarget'] = {};
  const targets = TARGETS.filter(
    ({ name, onlyIn }) =>
      (targetFilter === undefined || name.includes(targetFilter)) &&
      (scenario.targets === undefined
        ? onlyIn === undefined || scenario.title.includes(onlyIn)
        : scenario.targets.includes(name)),
  );
  // Round-robin: run 1 of every server, then run 2 of every server, and so on, so that a slow spell of the machine
  // touches all of them alike instead of the one that happened to run then.
  const samples = new Map<Target, Record<string, number>[]>(targets.map((target) => [target, []]));
  for (let run = 0; run < runs; run++) {
    for (const target of targets) {
      // A fresh server per run: no state or garbage carried over from the previous one.
      const server = await startServer(target, { profileDir });
      try {
        samples.get(target)!.push((await scenario.measure(target, server)) as Record<string, number>);
      } finally {
        await server.stop();
      }
    }
  }
  for (const [target, runsOfTarget] of samples) {
    byTarget[target.name] = Object.fromEntries(
      Object.keys(runsOfTarget[0]).map((key) => [key, median(runsOfTarget.map((sample) => sample[key]))]),
    );
    console.log(scenario.title, target.name, JSON.stringify(byTarget[target.name]));
  }
  results.push({ title: scenario.title, byTarget });
}

await backends?.stop();

/** `--save <name>`: a partial run's results go to results/<name>.md and .json (a full run's to latest). */
const saveAs = option('--save');
if (saveAs === undefined && (only !== undefined || targetFilter !== undefined || profileDir !== undefined)) {
  console.log('A partial or profiled run: results/ is left as it was (--save <name> writes it to results/<name>).');
  process.exit(0);
}
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`;
const report = renderReport(results, { machine, runs, pinned: HAS_TASKSET, quick });
const folder = new URL('../../bench/results/', import.meta.url);
const name = saveAs ?? 'latest';
writeFileSync(new URL(`${name}.md`, folder), report);
writeFileSync(new URL(`${name}.json`, folder), `${JSON.stringify({ machine, runs, results }, null, 2)}\n`);
console.log(report);
process.exit(0);
