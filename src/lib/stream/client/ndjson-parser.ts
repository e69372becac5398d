import { readStream } from './read-stream';

/**
 * Parses an `application/x-ndjson` body: one JSON value a line, blank lines skipped, CRLF
 * tolerated. The values are not checked against `T`. A line that is not JSON throws an Error
 * naming its line number.
 * @example for await (const record of parseNdjson<Point>(response.body!.getReader())) draw(record);
 */
export async function* parseNdjson<T = unknown>(
	reader: ReadableStreamDefaultReader<Uint8Array>
): AsyncGenerator<T, void, undefined> {
	let number = 0;
	for await (const line of readStream(reader, '\n')) {
		number += 1;
		const text = line.endsWith('\r') ? line.slice(0, -1) : line;
		if (text.trim() === '') continue;
		let value: T;
		try {
			value = JSON.parse(text) as T;
		} catch (error) {
			throw new Error(`NDJSON line ${number} is not valid JSON: ${(error as Error).message}`);
		}
		yield value;
	}
}
