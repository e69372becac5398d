// Test helpers: real ReadableStreams fed with a payload cut at chosen byte offsets.

/** A reader over a stream that delivers `chunks` in order, then ends. */
export function readerOf(chunks: (Uint8Array | string)[]): ReadableStreamDefaultReader<Uint8Array> {
	const encoder = new TextEncoder();
	return new ReadableStream<Uint8Array>({
		start(controller) {
			for (const chunk of chunks) controller.enqueue(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
			controller.close();
		}
	}).getReader();
}

/** Every way to cut `bytes` into two chunks, then into three (empty chunks included). */
export function* everySplit(bytes: Uint8Array): Generator<Uint8Array[]> {
	for (let i = 0; i <= bytes.length; i++) yield [bytes.slice(0, i), bytes.slice(i)];
	for (let i = 0; i <= bytes.length; i++) {
		for (let j = i; j <= bytes.length; j++) yield [bytes.slice(0, i), bytes.slice(i, j), bytes.slice(j)];
	}
}

/** Collects an async iterable into an array. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
	const out: T[] = [];
	for await (const item of items) out.push(item);
	return out;
}
