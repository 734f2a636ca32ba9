export { Pipeline, type PipelineOptions } from './pipeline.js';
export { ServiceProcess, serviceScript, type ServiceName, type ServiceScriptName } from './process.js';
export { expectedFromSimulator, expectedBars, IncrementalExpected, asTableRow, simTradeToAggTrade, COMPARED, MINUTE } from './expected.js';
