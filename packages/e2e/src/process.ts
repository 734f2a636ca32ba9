import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export type ServiceName = 'config' | 'ingest' | 'aggregator';
/** Every service with a `dist/main.js` (the web service is not part of the e2e pipelines). */
export type ServiceScriptName = ServiceName | 'web';

export function serviceScript(name: ServiceScriptName): string {
  return fileURLToPath(new URL(`../../../services/${name}/dist/main.js`, import.meta.url));
}

const ERROR_LINE = /"level":"(error|fatal)"/;

/** One service as a real child process; keeps the tail of its output for failure reports. */
export class ServiceProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  private output = '';
  private partial = '';
  /** Every `error`/`fatal` line the process printed (pino JSON lines with a string level), first 100 kept. */
  readonly errorLines: string[] = [];

  constructor(readonly label: string, name: ServiceName, env: Record<string, string>) {
    this.child = spawn(process.execPath, [serviceScript(name)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (b: Buffer): void => {
      const text = b.toString();
      this.output = (this.output + text).slice(-30_000);
      const lines = (this.partial + text).split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) if (ERROR_LINE.test(line) && this.errorLines.length < 100) this.errorLines.push(line);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  get log(): string {
    return this.output;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }
}
