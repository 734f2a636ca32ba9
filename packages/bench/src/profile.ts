/** Summarises V8 `.cpuprofile` files (from `node --cpu-prof`): self time per function. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface HotFunction {
  fn: string;
  /** Self time share of all samples, %. */
  selfPct: number;
  selfMs: number;
}

/** Top self-time functions of one profile; `(idle)`/`(program)`/`(garbage collector)` kept — they matter. */
export function hotFunctions(profile: CpuProfile, top = 15): { totalMs: number; idlePct: number; functions: HotFunction[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const n = byId.get(samples[i]!);
    if (!n) continue;
    const dt = (deltas[i] ?? 0) / 1000;
    total += dt;
    const url = n.callFrame.url.replace(/^.*\/node_modules\//, '').replace(/^.*\/(packages|services)\//, '$1/');
    const name = `${n.callFrame.functionName || '(anonymous)'} ${url ? `${url}:${n.callFrame.lineNumber + 1}` : ''}`.trim();
    self.set(name, (self.get(name) ?? 0) + dt);
  }
  const idle = self.get('(idle)') ?? 0;
  const functions = [...self]
    .filter(([fn]) => fn !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, ms]) => ({ fn, selfMs: Math.round(ms), selfPct: Math.round((ms / Math.max(1, total - idle)) * 1000) / 10 }));
  return { totalMs: Math.round(total), idlePct: Math.round((idle / Math.max(1, total)) * 1000) / 10, functions };
}

/** Every `.cpuprofile` in `dir`, summarised (busy time only: percentages exclude idle). */
export function summariseProfiles(dir: string, top = 15): Record<string, ReturnType<typeof hotFunctions>> {
  const out: Record<string, ReturnType<typeof hotFunctions>> = {};
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.cpuprofile')).sort()) {
    out[f] = hotFunctions(JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile, top);
  }
  return out;
}
