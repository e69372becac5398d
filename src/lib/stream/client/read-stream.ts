// Isomorphic (browser and server): no `node:` imports here.

/** Escapes a string for use as a literal inside a RegExp. */
function escape(text: string): string {
	return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Reads a byte stream as UTF-8 text and yields each piece between delimiters, then a trailing
 * non-empty remainder. A multi-byte character or a delimiter split across chunks is put back
 * together; a RegExp delimiter that could grow with the next chunk (a CR that may be the start
 * of CRLF) counts once. Stopping early cancels the reader.
 * @example for await (const line of readStream(response.body!.getReader(), /\r\n|\r|\n/)) console.log(line);
 */
export async function* readStream(
	reader: ReadableStreamDefaultReader<Uint8Array>,
	delimiter: RegExp | string
): AsyncGenerator<string, void, undefined> {
	const source = typeof delimiter === 'string' ? escape(delimiter) : delimiter.source;
	const flags = typeof delimiter === 'string' ? '' : delimiter.flags.replace(/[gy]/g, '');
	const global = new RegExp(source, flags + 'g');
	const sticky = new RegExp(source, flags + 'y');
	const decoder = new TextDecoder();
	let buffer = '';
	// The delimiter that ended the buffer last time: the next chunk may extend it.
	let pending = '';
	let done = false;
	try {
		while (!done) {
			const result = await reader.read();
			done = result.done;
			buffer += result.done ? decoder.decode() : decoder.decode(result.value, { stream: true });
			if (pending && buffer) {
				sticky.lastIndex = 0;
				const longer = sticky.exec(pending + buffer);
				const extra = longer ? longer[0].length - pending.length : 0;
				buffer = buffer.slice(Math.max(extra, 0));
				pending = extra > 0 && !buffer ? longer![0] : '';
			}
			let start = 0;
			global.lastIndex = 0;
			for (let match = global.exec(buffer); match; match = global.exec(buffer)) {
				if (match[0] === '') throw new Error('readStream: the delimiter must not match an empty string');
				yield buffer.slice(start, match.index);
				start = global.lastIndex;
				if (start === buffer.length) pending = match[0];
			}
			buffer = buffer.slice(start);
		}
		if (buffer) yield buffer;
	} finally {
		if (!done) await reader.cancel().catch(() => {});
	}
}
