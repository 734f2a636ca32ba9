import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StackError } from './errors.js';
import { kafkaHealthy } from './kafka-probe.js';
import type { JavaRuntime } from './java.js';
import { pollUntil } from './poll.js';
import { spawnServer, isAlive, tailFile } from './process.js';

export interface KafkaPorts {
  /** Client listener. @defaultValue 9092 */
  broker: number;
  /** KRaft controller listener. @defaultValue 9093 */
  controller: number;
}

export interface KafkaOptions {
  java: JavaRuntime;
  libDir: string;
  /** Holds `data/`, `server.properties`, `log4j2.xml` and `kafka.log`. */
  dir: string;
  ports: KafkaPorts;
  host?: string;
  /** @defaultValue 1024 */
  heapMb?: number;
  detached: boolean;
  /** Broker property overrides (e.g. `num.partitions`). */
  overrides?: Record<string, string>;
}

export function kafkaProperties(opts: { dir: string; host: string; ports: KafkaPorts; overrides?: Record<string, string> }): string {
  const { host, ports } = opts;
  const props: Record<string, string> = {
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.voters': `1@${host}:${ports.controller}`,
    listeners: `PLAINTEXT://${host}:${ports.broker},CONTROLLER://${host}:${ports.controller}`,
    'advertised.listeners': `PLAINTEXT://${host}:${ports.broker}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': join(opts.dir, 'data'),
    'num.partitions': '12',
    'offsets.topic.replication.factor': '1',
    'offsets.topic.num.partitions': '12',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'transaction.state.log.num.partitions': '4',
    'share.coordinator.state.topic.replication.factor': '1',
    'share.coordinator.state.topic.min.isr': '1',
    'group.initial.rebalance.delay.ms': '0',
    // Topics are created explicitly by the services (with their partition counts and policies).
    'auto.create.topics.enable': 'false',
    'log.retention.hours': '168',
    ...opts.overrides,
  };
  return `${Object.entries(props)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n`;
}

const LOG4J2 = `<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <Console name="stdout" target="SYSTEM_OUT">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </Console>
  </Appenders>
  <Loggers>
    <Logger name="kafka.request.logger" level="WARN"/>
    <Logger name="state.change.logger" level="WARN"/>
    <Logger name="org.apache.kafka.storage" level="WARN"/>
    <Root level="INFO"><AppenderRef ref="stdout"/></Root>
  </Loggers>
</Configuration>
`;

function classpath(libDir: string): string {
  return join(libDir, '*');
}

/**
 * A KRaft cluster id: 16 random bytes, base64url (22 characters). Like Kafka's own
 * `Uuid.randomUuid`, never one starting with `-`, which the storage tool's argument parser
 * would take for an option.
 */
export function newClusterId(): string {
  for (;;) {
    const id = Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** Writes the config and formats the KRaft storage once (the cluster id is kept in `dir`). */
export function prepareKafka(opts: KafkaOptions): { configFile: string; log4jFile: string } {
  const host = opts.host ?? '127.0.0.1';
  mkdirSync(join(opts.dir, 'data'), { recursive: true });
  const configFile = join(opts.dir, 'server.properties');
  const log4jFile = join(opts.dir, 'log4j2.xml');
  writeFileSync(configFile, kafkaProperties({ dir: opts.dir, host, ports: opts.ports, overrides: opts.overrides }));
  writeFileSync(log4jFile, LOG4J2);
  const idFile = join(opts.dir, 'cluster-id');
  if (!existsSync(join(opts.dir, 'data', 'meta.properties'))) {
    // Kafka cluster ids are 16 bytes base64url (22 chars); StorageTool random-uuid would do
    // the same but costs a JVM start.
    const clusterId = newClusterId();
    writeFileSync(idFile, `${clusterId}\n`);
    const r = spawnSync(
      opts.java.path,
      [
        `-Dlog4j2.configurationFile=${log4jFile}`,
        '-cp',
        classpath(opts.libDir),
        'kafka.tools.StorageTool',
        'format',
        '-t',
        clusterId,
        '-c',
        configFile,
        '--ignore-formatted',
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    if (r.status !== 0) {
      throw new StackError(
        'start-failed',
        `cvd stack: formatting Kafka storage in ${opts.dir} failed: ${(r.stderr || r.stdout || '').trim().split('\n').slice(-2).join(' ')}`,
      );
    }
  }
  return { configFile, log4jFile };
}

export function startKafka(opts: KafkaOptions): { pid: number; logFile: string } {
  const { configFile, log4jFile } = prepareKafka(opts);
  const heap = opts.heapMb ?? 1024;
  const logFile = join(opts.dir, 'kafka.log');
  return spawnServer(
    opts.java.path,
    [
      `-Xms${Math.min(256, heap)}m`,
      `-Xmx${heap}m`,
      '-XX:+UseG1GC',
      '-XX:MaxGCPauseMillis=20',
      '-XX:InitiatingHeapOccupancyPercent=35',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${log4jFile}`,
      `-Dkafka.logs.dir=${opts.dir}`,
      '-cp',
      classpath(opts.libDir),
      'kafka.Kafka',
      configFile,
    ],
    { cwd: opts.dir, logFile, detached: opts.detached },
  );
}

export { kafkaHealthy };

export async function waitKafkaHealthy(
  brokers: string,
  pid: number,
  logFile: string,
  timeoutMs = 90_000,
): Promise<void> {
  const healthy = await pollUntil(async () => {
    if (!isAlive(pid)) {
      throw new StackError('start-failed', `cvd stack: Kafka exited during start-up; last log lines (${logFile}):\n${tailFile(logFile)}`);
    }
    const started = readFileSafe(logFile).includes('Kafka Server started');
    return started && (await kafkaHealthy(brokers));
  }, { intervalMs: 250, timeoutMs });
  if (healthy) return;
  throw new StackError('not-healthy', `cvd stack: Kafka did not become healthy within ${timeoutMs / 1000} s; see ${logFile}`);
}

function readFileSafe(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
