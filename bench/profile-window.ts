// Summarises CPU profiles written by `npm run bench -- --profile <dir>`, counting only the samples between two usage
// readings of the server (the measured window of a scenario): self time by function and by package or file.
// Usage: node dist-bench/bench/profile-window.js <dir> [window index, default: the last]
import { readdirSync, readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const [dir, which] = process.argv.slice(2);
for (const file of readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'))) {
  const pid = file.split('.')[3]; // CPU.<date>.<time>.<pid>.<thread>.<sequence>.cpuprofile
  let marks: number[] = [];
  try {
    marks = JSON.parse(readFileSync(`${dir}/marks-${pid}.json`, 'utf8')) as number[];
  } catch {
    // no marks: the whole profile
  }
  const profile = JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')) as Profile;
  const windowIndex = which === undefined ? Math.floor(marks.length / 2) - 1 : Number(which);
  const from = marks[windowIndex * 2] ?? -Infinity;
  const to = marks[windowIndex * 2 + 1] ?? Infinity;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const byFunction = new Map<string, number>();
  const byPlace = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const parents = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) {
      parents.set(child, node.id);
    }
  }
  let time = profile.startTime;
  let total = 0;
  for (let index = 0; index < profile.samples.length; index++) {
    time += profile.timeDeltas[index];
    if (time < from || time > to) {
      continue;
    }
    const delta = profile.timeDeltas[index + 1] ?? 0;
    const { functionName, url, lineNumber } = byId.get(profile.samples[index])!.callFrame;
    const place = placeOf(url);
    const name = `${functionName || '(anonymous)'} ${place}:${lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + delta);
    byPlace.set(place, (byPlace.get(place) ?? 0) + delta);
    const seen = new Set<string>();
    for (let id: number | undefined = profile.samples[index]; id !== undefined; id = parents.get(id)) {
      const frame = byId.get(id)!.callFrame;
      const key = `${frame.functionName || '(anonymous)'} ${placeOf(frame.url)}:${frame.lineNumber + 1}`;
      if (!seen.has(key)) {
        seen.add(key);
        inclusive.set(key, (inclusive.get(key) ?? 0) + delta);
      }
    }
    total += delta;
  }
  console.log(`\n${file}: ${(total / 1000).toFixed(1)} ms sampled in window ${windowIndex}`);
  print(byPlace, total, 25);
  print(byFunction, total, Number(process.env.TOP ?? 45));
  if (process.env.INCLUSIVE !== undefined) {
    const matching = new Map([...inclusive].filter(([name]) => name.includes(process.env.INCLUSIVE!)));
    console.log('\ninclusive:');
    print(matching, total, 60);
  }
}

function placeOf(url: string): string {
  if (url === '') {
    return '(native)';
  }
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}/${rest.at(-1)}` : `${rest[0]}/${rest.at(-1)}`;
  }
  const dist = url.indexOf('/dist/');
  return dist >= 0 ? url.slice(dist + 1) : url.replace(/^.*\//, '');
}

function print(totals: Map<string, number>, total: number, limit: number): void {
  console.log('');
  for (const [name, micros] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, limit)) {
    console.log(
      `${((micros / total) * 100).toFixed(1).padStart(5)}%  ${(micros / 1000).toFixed(1).padStart(8)} ms  ${name}`,
    );
  }
}
