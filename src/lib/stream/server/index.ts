// Server stream helpers: a correct stream in one call.
export { json } from './json';
export { sse, type SseContext, type SseSource } from './sse';
export { configureSse, type SseOptions } from './sse-options';
export type { SseMessage } from './sse-format';
export type * from './types';
export { ndjson, type NdjsonContext, type NdjsonItem, type NdjsonOptions, type NdjsonSource } from './ndjson';
export { batch, type RecordBatch } from './ndjson-stream';
export { file, fileAnswer, fileResponse, type FileAnswer, type FileRequest, type FileSource } from './file';
export { text, type TextContext, type TextItem, type TextOptions, type TextSource } from './text';
