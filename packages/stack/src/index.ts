export { StackError, STACK_ERROR_CODES, type StackErrorCode } from './errors.js';
export { findJavaRuntimes, pickJava, parseJavaMajor, type JavaRuntime } from './java.js';
export { findRepoRoot, readVersions, defaultCacheDir, defaultStackDir, type InfraVersions } from './paths.js';
export { freePort, freePorts, isPortFree, canConnect } from './ports.js';
export { provision, isCacheWarm, type Artifacts } from './provision.js';
export { kafkaHealthy, kafkaProperties, startKafka, waitKafkaHealthy, type KafkaPorts, type KafkaOptions } from './kafka.js';
export { questdbHealthy, questdbServerConf, startQuestDb, waitQuestDbHealthy, type QuestDbPorts, type QuestDbOptions } from './questdb.js';
export { isAlive, terminate, commandLine } from './process.js';
export {
  launchStack,
  stackUp,
  stackDown,
  stackStatus,
  readState,
  pickRuntimes,
  DEFAULT_KAFKA_PORTS,
  DEFAULT_QUESTDB_PORTS,
  type StackOptions,
  type StackEndpoints,
  type ComponentStatus,
  type ComponentInfo,
} from './stack.js';
export { stackReset, resetTargets, type ResetResult, type ResetTarget } from './reset.js';
