export { Pipeline, type PipelineOptions } from './pipeline.js';
export { ServiceProcess, serviceScript, type ServiceName } from './process.js';
export { expectedFromSimulator, expectedBars, asTableRow, COMPARED, MINUTE } from './expected.js';
