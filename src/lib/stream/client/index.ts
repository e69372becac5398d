// Stream reading for the browser (and the server): one reader, thin parsers on top.
export { readStream } from './read-stream';
export { parseSse, type SseEvent, type SseParseOptions } from './sse-parser';
export { parseNdjson } from './ndjson-parser';
export { ApiError } from './api-error';
export { withQuery, type QueryParams, type QueryValue } from './query';
export { requestJson, type CallOptions, type RequestOptions } from './request';
export { EventStream, openEvents, type EventsOptions, type EventsStatus, type OpenEventsOptions, type StreamEvent } from './events.svelte';
export { downloadFile, type DownloadOptions } from './download';
export { readRecords, type ReadRecordsOptions, type RecordsOptions, type RecordStream } from './records';
export { uploadFile, type UploadOptions, type UploadProgress } from './upload';
export { hashBlob } from './file-hash';
