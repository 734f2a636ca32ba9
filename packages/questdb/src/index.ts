export { questdbEnvShape, questdbSettingsFromEnv, ilpConfigString, type QuestDbSettings, type QuestDbEnv } from './settings.js';
export { QuestDbSql, QuestDbError, QUESTDB_ERROR_CODES, type QuestDbErrorCode, type ExecResult } from './sql.js';
export { BAR_COLUMNS, DEFAULT_BAR_TABLE, barTableDdl, assertTableName } from './bar-table.js';
export { BarWriter } from './bar-writer.js';
