// Phantom brands: a handler's return type tells the client generator (and tsc) what the stream carries.
declare const stream: unique symbol;

/** An SSE response whose events are `E` (event name -> data type). */
export type EventsResponse<E extends Record<string, unknown>> = Response & {
	readonly [stream]?: { kind: 'events'; events: E };
};

/** An NDJSON response whose records are `R`. */
export type RecordsResponse<R> = Response & { readonly [stream]?: { kind: 'records'; record: R } };

/** A file download response. */
export type FileResponse = Response & { readonly [stream]?: { kind: 'file' } };

/** A chunked text/plain response. */
export type TextResponse = Response & { readonly [stream]?: { kind: 'text' } };

/** A JSON response whose body is `T`. */
export type JsonResponse<T> = Response & { readonly [stream]?: { kind: 'json'; body: T } };

/** The stream description carried by a branded response type. */
export type StreamOf<R> = R extends { readonly [stream]?: infer S } ? NonNullable<S> : never;

/** The branded response a handler (a function of the request event) resolves to. */
export type HandlerResponse<H> = H extends (...args: never[]) => infer R ? Awaited<R> : never;

/** JSON body type of a handler returning JsonResponse<T>. */
export type JsonOf<H> = StreamOf<HandlerResponse<H>> extends { kind: 'json'; body: infer T } ? T : never;

/** Event map of a handler returning EventsResponse<E>. */
export type EventsOf<H> = StreamOf<HandlerResponse<H>> extends { kind: 'events'; events: infer E } ? E : never;

/** Record type of a handler returning RecordsResponse<R>. */
export type RecordOf<H> = StreamOf<HandlerResponse<H>> extends { kind: 'records'; record: infer R } ? R : never;
