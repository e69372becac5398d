// A lean HTTP/1.1 GET client on one keep-alive socket: reads into one reused 1 MiB buffer (no
// per-read allocation, no parser in JS beyond the head), so the client costs every server the same.
import { connect } from 'node:net';

const READ_BYTES = 1024 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n');

/** One keep-alive connection; one request at a time. */
export class Connection {
	#socket;
	#pending = null;
	#head = null;
	#closed = null;

	/**
	 * Opens a connection to 127.0.0.1:`port`.
	 * @example const conn = await Connection.open(8080); await conn.get('/big.bin', {}, onBody); conn.close();
	 */
	static open(port) {
		return new Promise((resolve, reject) => {
			const conn = new Connection();
			conn.#socket = connect({
				host: '127.0.0.1',
				port,
				noDelay: true,
				onread: { buffer: Buffer.allocUnsafe(READ_BYTES), callback: (n, buf) => conn.#onRead(n, buf) }
			});
			conn.#socket.once('connect', () => resolve(conn));
			conn.#socket.once('error', (error) => {
				conn.#closed = error;
				conn.#fail(error);
				reject(error);
			});
			conn.#socket.once('close', () => conn.#fail((conn.#closed ??= new Error('connection closed by the server'))));
		});
	}

	/**
	 * Sends a GET and resolves with `{ status, headers, length }` once the whole body has arrived;
	 * `onBody(buf, start, n, bodyOffset)` sees each piece of the body (valid only during the call).
	 * Bodies must come with a Content-Length (every contender sends one for files).
	 */
	get(path, headers, onBody) {
		if (this.#closed) return Promise.reject(this.#closed);
		if (this.#pending) return Promise.reject(new Error('one request at a time'));
		const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
		return new Promise((resolve, reject) => {
			this.#pending = { resolve, reject, onBody, status: 0, headers: null, remaining: -1, length: 0 };
			this.#socket.write(`GET ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n${lines}\r\n`);
		});
	}

	close() {
		this.#closed ??= new Error('closed');
		this.#socket.destroy();
	}

	#fail(error) {
		const pending = this.#pending;
		this.#pending = null;
		pending?.reject(error);
	}

	#onRead(n, buf) {
		const request = this.#pending;
		if (!request) {
			this.#socket.destroy(new Error(`${n} bytes arrived with no request pending`));
			return;
		}
		let start = 0;
		if (request.remaining < 0) {
			// Still in the head: it may span reads, so keep what came until the blank line.
			const seen = this.#head ? Buffer.concat([this.#head, buf.subarray(0, n)]) : buf.subarray(0, n);
			const end = seen.indexOf(HEAD_END);
			if (end === -1) {
				this.#head = Buffer.from(seen);
				return;
			}
			const carried = seen.length - n;
			this.#head = null;
			try {
				this.#parseHead(request, seen.toString('latin1', 0, end));
			} catch (error) {
				this.#socket.destroy(error);
				return;
			}
			start = end + HEAD_END.length - carried;
		}
		const take = Math.min(n - start, request.remaining);
		if (take > 0) {
			try {
				request.onBody?.(buf, start, take, request.length - request.remaining);
			} catch (error) {
				this.#socket.destroy(error);
				return;
			}
			request.remaining -= take;
		}
		if (start + take < n) {
			this.#socket.destroy(new Error('more bytes than the Content-Length'));
			return;
		}
		if (request.remaining === 0) {
			this.#pending = null;
			request.resolve({ status: request.status, headers: request.headers, length: request.length });
		}
	}

	#parseHead(request, head) {
		const [statusLine, ...lines] = head.split('\r\n');
		request.status = Number(statusLine.split(' ')[1]);
		request.headers = new Map(lines.map((line) => [line.slice(0, line.indexOf(':')).trim().toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
		const length = request.headers.get('content-length');
		if (length === undefined) throw new Error(`no Content-Length in the answer (status ${request.status})`);
		request.length = request.remaining = Number(length);
	}
}
