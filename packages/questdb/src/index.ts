export { questdbEnvShape, questdbSettingsFromEnv, ilpConfigString, type QuestDbSettings, type QuestDbEnv } from './settings.js';
export { QuestDbSql, QuestDbError, QUESTDB_ERROR_CODES, type QuestDbErrorCode, type ExecResult } from './sql.js';
export { BAR_COLUMNS, DEFAULT_BAR_TABLE, barTableDdl, assertTableName } from './bar-table.js';
export { BarWriter } from './bar-writer.js';
export {
  TIMEFRAMES, VIEW_TIMEFRAMES, TIMEFRAME_MS, VIEW_COLUMNS, VIEW_PARTITION_BY,
  viewName, viewNames, viewDdl, viewDdls, ensureViews, viewsRefreshed, type Timeframe, type ViewTimeframe,
} from './views.js';
export {
  BAR_COLUMN_SPECS, BAR_VALUE_COLUMNS, BAR_CLI_COLUMNS, barAsTableRow, barAggregates, writeBarRow,
  type BarColumnSpec, type BarColumnName, type BarValueColumnName, type BarViewColumnName, type BarAggregate,
  type IlpKind, type IlpRowBuilder,
} from './bar-columns.js';
