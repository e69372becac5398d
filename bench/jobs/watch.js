// The watchers: N SSE clients on one job's status stream (plain node:http, a minimal parser that counts
// events). Prints {"connected":N} once every stream has its first bytes, then a summary once all got `completed`.
import { request } from 'node:http';

const [url, cookie = '', countArg = '100'] = process.argv.slice(2);
const COUNT = Number(countArg);
const watchers = [];
let connected = 0;
let finished = 0;

function open(index) {
	const state = { events: 0, bytes: 0, completed: false, types: {} };
	watchers[index] = state;
	const req = request(url, { headers: { cookie, accept: 'text/event-stream' } }, (res) => {
		if (res.statusCode !== 200) {
			console.log(JSON.stringify({ error: `watcher ${index}: status ${res.statusCode}` }));
			process.exit(1);
		}
		let first = true;
		let rest = '';
		res.setEncoding('utf8');
		res.on('data', (chunk) => {
			if (first) {
				first = false;
				if (++connected === COUNT) console.log(JSON.stringify({ connected }));
			}
			state.bytes += Buffer.byteLength(chunk);
			const blocks = (rest + chunk).split('\n\n');
			rest = blocks.pop();
			for (const block of blocks) {
				const type = /^event: (.+)$/m.exec(block)?.[1];
				if (!type) continue;
				state.events++;
				state.types[type] = (state.types[type] ?? 0) + 1;
				if (type === 'completed' && !state.completed) {
					state.completed = true;
					if (++finished === COUNT) done();
				}
			}
		});
	});
	req.on('error', (error) => {
		console.log(JSON.stringify({ error: `watcher ${index}: ${error.message}` }));
		process.exit(1);
	});
	req.end();
}

function done() {
	const events = watchers.map((w) => w.events);
	console.log(JSON.stringify({ completed: finished, minEvents: Math.min(...events), maxEvents: Math.max(...events), types: watchers[0].types, bytes: watchers[0].bytes }));
	process.exit(0);
}

for (let i = 0; i < COUNT; i++) open(i);
