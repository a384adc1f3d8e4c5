import { readFileSync } from 'node:fs';

/**
 * Reads a callgrind dump made with `--dump-instr=yes` (the instruction count of every instruction), and names where
 * the instructions went: native functions by callgrind's own symbols, JavaScript compiled by V8 through the process's
 * `--perf-basic-prof` map (`/tmp/perf-<pid>.map`), where callgrind has no name.
 */
export function selfInstructions(dumpPath: string, perfMapPath: string): Map<string, number> {
  const jit = perfMap(perfMapPath);
  const objects = new Map<string, string>();
  const functions = new Map<string, string>();
  const costs = new Map<string, number>();
  let object = '';
  let fn = '';
  let address = 0;
  let callCost = false;
  for (const line of readFileSync(dumpPath, 'utf8').split('\n')) {
    const first = line.charAt(0);
    if (first === '' || first === '#') {
      continue;
    }
    if (callCost || /[\d+*-]/.test(first)) {
      const [position, , count] = line.split(' ');
      address = subposition(position, address);
      // The line after `calls=` is the call's inclusive cost, counted in the callee already.
      if (!callCost && count !== undefined) {
        const name = object === '' || object === '???' ? (jit(address) ?? `${object}:${fn}`) : `${object}:${fn}`;
        costs.set(name, (costs.get(name) ?? 0) + Number(count));
      }
      callCost = false;
      continue;
    }
    const named = /^(c?ob|c?fn)=\((\d+)\)\s*(.*)$/.exec(line);
    if (named !== null) {
      const [, kind, id, name] = named;
      const table = kind.endsWith('ob') ? objects : functions;
      if (name !== '') {
        table.set(id, kind.endsWith('ob') ? (name.split('/').pop() ?? name) : name);
      }
      if (kind === 'ob') {
        object = objects.get(id) ?? '';
      } else if (kind === 'fn') {
        fn = functions.get(id) ?? '';
      }
    } else if (line.startsWith('calls=')) {
      callCost = true;
    }
  }
  return costs;
}

/** A subposition of callgrind's compressed format: absolute, relative to the last (`+n`, `-n`), or the same (`*`). */
function subposition(token: string, previous: number): number {
  if (token === '*') {
    return previous;
  }
  if (token.startsWith('+')) {
    return previous + Number(token.slice(1));
  }
  if (token.startsWith('-')) {
    return previous - Number(token.slice(1));
  }
  return Number(token);
}

/** The name of the V8 code an address is in, from a `--perf-basic-prof` map (`start size name` lines, in hex). */
function perfMap(path: string): (address: number) => string | undefined {
  const entries = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [start, size] = line.split(' ', 2);
      return {
        start: Number(`0x${start}`),
        end: Number(`0x${start}`) + Number(`0x${size}`),
        name: line.slice(start.length + size.length + 2),
      };
    })
    .sort((a, b) => a.start - b.start);
  return (address) => {
    let low = 0;
    let high = entries.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const entry = entries[middle];
      if (address < entry.start) {
        high = middle - 1;
      } else if (address >= entry.end) {
        low = middle + 1;
      } else {
        return `JIT:${entry.name}`;
      }
    }
    return undefined;
  };
}

/** What a function's instructions were spent on, for the table. */
export const CATEGORIES = [
  'TurboFan compiling',
  'inline caches',
  'V8 runtime',
  'garbage collection',
  'optimized and baseline code',
  'Node and libuv',
  'other',
] as const;
export type Category = (typeof CATEGORIES)[number];

export function categoryOf(name: string): Category {
  if (name.startsWith('JIT:')) {
    return 'optimized and baseline code';
  }
  if (/compiler::|turboshaft::/.test(name)) {
    return 'TurboFan compiling';
  }
  if (/Scaveng|Heap::|MarkCompact|Sweeper|Marking|Evacuat|MemoryAllocator|GCTracer|BodyDescriptorBase/.test(name)) {
    return 'garbage collection';
  }
  if (/:Builtins_\w*IC\w*$|LookupIterator|\bLoadIC::|\bStoreIC::|\bIC::|FeedbackNexus|StubCache/.test(name)) {
    return 'inline caches';
  }
  if (/:Builtins_\w*Baseline\w*/.test(name)) {
    return 'optimized and baseline code';
  }
  if (/v8::|:Builtins_/.test(name)) {
    return 'V8 runtime';
  }
  if (/node::|:uv_|:uv__|llhttp/.test(name)) {
    return 'Node and libuv';
  }
  return 'other';
}
