/**
 * Summarises the profiles of bench/ingest-profile.ts: per process, the CPU of every thread during the pass
 * (from /proc), then the V8 samples inside the pass's window, by self time, grouped two ways: the package
 * or module of the function itself, and its owner (the nearest caller outside Node's core and native
 * frames: who made Node parse that HTTP response or hash those bytes).
 *
 *   node bin/run-ts.js bench/ingest-profile-summary.ts <dir> [top]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const dir = process.argv[2]!;
const top = Number(process.argv[3] ?? 25);
const window = JSON.parse(readFileSync(join(dir, 'window.json'), 'utf8')) as {
  startUs: number;
  endUs: number;
  images: number;
  benchPid: number;
  s3Pid: number;
  threads: Record<string, Record<string, number>>;
};

/** The package a script belongs to: an npm package, a Node core module, or our own folder. */
function packageOf(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : `(native) ${name || 'anonymous'}`;
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + 14).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (url.startsWith('node:')) {
    const path = url.slice(5).replace(/^internal\//, '');
    return `node:${path.split('/')[0]!.replace(/^_?(http|stream|tls|net).*$/, '$1')}`;
  }
  const ours = /\/(src|local|functions|bench)\/(.*)$/.exec(url);
  if (ours) return `ours: ${ours[1]}/${ours[2]!.split('/').slice(0, -1).join('/') || ours[2]}`.replace(/\/$/, '');
  return url;
}

const isCore = (pkg: string) => pkg.startsWith('node:') || pkg.startsWith('(native)');

function summarise(file: string): { total: number; self: Map<string, number>; owner: Map<string, number>; fns: Map<string, number> } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const owner = new Map<string, number>();
  const fns = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  let t = profile.startTime;
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i]!;
    const dt = profile.timeDeltas[i + 1] ?? 0;
    if (t < window.startUs || t > window.endUs) continue;
    const node = byId.get(profile.samples[i]!)!;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    const pkg = packageOf(url, functionName);
    total += dt;
    add(self, pkg, dt);
    add(fns, `${functionName || '(anonymous)'} ${pkg}${url ? `:${lineNumber + 1}` : ''}`, dt);
    let o: ProfileNode | undefined = node;
    let ownerPkg = pkg;
    while (o && isCore(packageOf(o.callFrame.url, o.callFrame.functionName))) {
      const p = parent.get(o.id);
      o = p === undefined ? undefined : byId.get(p);
      if (o) ownerPkg = packageOf(o.callFrame.url, o.callFrame.functionName);
    }
    if (!o || o.callFrame.functionName === '(root)') ownerPkg = `${pkg} (no caller)`;
    add(owner, ownerPkg, dt);
  }
  return { total, self, owner, fns };
}

const perImage = (us: number) => (us / 1000 / window.images).toFixed(2);
const print = (title: string, m: Map<string, number>, total: number) => {
  console.log(`\n${title}\n| what | ms/img | share |\n| --- | ---: | ---: |`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`| ${k} | ${perImage(v)} | ${((100 * v) / total).toFixed(1)}% |`);
};

console.log(`window ${((window.endUs - window.startUs) / 1e6).toFixed(2)} s, ${window.images} images`);
for (const [proc, threads] of Object.entries(window.threads)) {
  const sum = Object.values(threads).reduce((a, b) => a + b, 0);
  console.log(`\n${proc} process threads (/proc), CPU ms/img: total ${(sum / window.images).toFixed(1)}`);
  for (const [name, ms] of Object.entries(threads).sort((a, b) => b[1] - a[1])) console.log(`  ${name}: ${(ms / window.images).toFixed(2)}`);
}
for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort()) {
  const [, , , pid, tid] = file.split('.');
  const s = summarise(join(dir, file));
  if (s.total === 0) continue;
  const who = Number(pid) === window.s3Pid ? 'S3 server process' : Number(pid) === window.benchPid ? 'bench process' : `pid ${pid}`;
  console.log(`\n## ${who}, thread ${tid} (${file}): ${perImage(s.total)} ms/img of V8 samples in the window`);
  print('self time by package', s.self, s.total);
  print('self time by owner (nearest caller outside node core / native)', s.owner, s.total);
  print('top functions (self)', s.fns, s.total);
}
