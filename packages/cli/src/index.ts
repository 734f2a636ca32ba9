export { main, HELP } from './main.js';
export { parseCliEnv, CliUsageError, type CliEnv } from './env.js';
