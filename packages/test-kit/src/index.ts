export {
  getTestStack,
  startThrowawayStack,
  runningStackEndpoints,
  endpointsFromEnv,
  endpointsToEnv,
  TEST_ENV,
  type TestStackEndpoints,
  type OwnedTestStack,
} from './stack.js';
export { uniqueTopic, uniqueTable, uniqueId } from './names.js';
export { questdbExec, questdbRows, eventually, type ExecResult } from './questdb-sql.js';
