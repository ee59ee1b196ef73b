/**
 * CPU seconds spent by the PostgreSQL servers on this machine (Babelfish is
 * one too), read from /proc: each postmaster with its children, the live
 * ones and the ones it has reaped (cutime/cstime), so the backends of
 * connections that closed during a measurement still count. A benchmark
 * whose source and target share the machine with it reads them before and
 * after a contender, to show where the cores went. Linux only; elsewhere,
 * or for servers on other machines, there is nothing to read and the map is
 * empty.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's times: USER_HZ, 100 on every Linux architecture Node runs on. */
const TICKS = 100;

interface Proc {
  pid: number;
  ppid: number;
  comm: string;
  ticks: number;
  reapedTicks: number;
}

function readProc(pid: number): Proc | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm is in parentheses and may hold spaces; the fields after it are space-separated.
    const open = stat.indexOf('(');
    const close = stat.lastIndexOf(')');
    const f = stat.slice(close + 2).split(' ');
    const n = (i: number): number => Number(f[i - 3]);
    return { pid, ppid: n(4), comm: stat.slice(open + 1, close), ticks: n(14) + n(15), reapedTicks: n(16) + n(17) };
  } catch {
    return null; // gone, or not ours to read
  }
}

function dataDir(pid: number): string {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const dir = args[args.indexOf('-D') + 1];
    return args.includes('-D') && dir ? dir : `postgres pid ${pid}`;
  } catch {
    return `postgres pid ${pid}`;
  }
}

/** CPU seconds so far per PostgreSQL server on this machine, keyed by its data directory. */
export function serverCpu(): Map<string, number> {
  let pids: number[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
  } catch {
    return new Map();
  }
  const procs = pids.map(readProc).filter((p): p is Proc => p !== null && p.comm === 'postgres');
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const out = new Map<string, number>();
  for (const p of procs) {
    if (byPid.has(p.ppid)) continue; // a backend or helper: counted with its postmaster
    const children = procs.filter((c) => c.ppid === p.pid).reduce((t, c) => t + c.ticks, 0);
    out.set(dataDir(p.pid), (p.ticks + p.reapedTicks + children) / TICKS);
  }
  return out;
}

/** Each server's CPU seconds between two readings (servers started in between count from zero). */
export function serverCpuSince(before: Map<string, number>, after = serverCpu()): Map<string, number> {
  return new Map([...after].map(([dir, s]) => [dir, s - (before.get(dir) ?? 0)]));
}

/** "dir 1.2 s, dir 0.3 s" for a report line; servers that did nothing are left out. */
export function serverCpuText(spent: Map<string, number>): string {
  const busy = [...spent].filter(([, s]) => s >= 0.05).map(([dir, s]) => `${dir} ${s.toFixed(1)} s`);
  return busy.length ? busy.join(', ') : 'none on this machine';
}
