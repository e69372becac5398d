// Stream reading for the browser (and the server): one reader, thin parsers on top.
export { readStream } from './read-stream';
export { parseSse, type SseEvent, type SseParseOptions } from './sse-parser';
export { parseNdjson } from './ndjson-parser';
