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
export { callWithRetry, whenConnected, type ArgsOf, type CallFailure, type CallOptions as SocketCallOptions, type EventMap, type PayloadOf, type ReplyOf } from './socket-call';
export { SocketClient, type SocketOptions, type SocketStatus } from './socket-client.svelte';
export { ChatSession, type OutgoingMessage } from './chat-session.svelte';
export { catchUp, contiguousEnd, mergeMessages, type HistoryPage } from './chat-log';
export { decodeText, readText, type ReadTextOptions, type TextStream, type TextStreamOptions } from './text';
