// The client: one GET, counting lines and bytes; prints time to first byte and the whole time as JSON.
import { request } from 'node:http';

const [url, cookie = ''] = process.argv.slice(2);
const start = performance.now();
let firstByte = 0;
let bytes = 0;
let lines = 0;
const req = request(url, { headers: { cookie, accept: 'application/x-ndjson' } }, (res) => {
	if (res.statusCode !== 200) {
		console.log(JSON.stringify({ error: `status ${res.statusCode}` }));
		process.exit(1);
	}
	res.on('data', (chunk) => {
		if (!firstByte) firstByte = performance.now();
		bytes += chunk.length;
		for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
	});
	res.on('end', () => {
		const ms = performance.now() - start;
		console.log(JSON.stringify({ ms, ttfbMs: firstByte - start, bytes, lines }));
	});
});
req.on('error', (error) => {
	console.log(JSON.stringify({ error: error.message }));
	process.exit(1);
});
req.end();
