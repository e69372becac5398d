// The peer: a bare node:http server streaming the same analytics records from the same SQLite file,
// the same keyset query and the same JSON per record, `PER_WRITE` records to each res.write.
import { createServer } from 'node:http';
import Database from 'better-sqlite3';

const [dbPath, perWriteArg] = process.argv.slice(2);
const PER_WRITE = Number(perWriteArg);
const BATCH = 2000;
const db = new Database(dbPath, { readonly: true });
const first = db.prepare('select id, time, metric, region, channel, value from analytics_events where time >= ? order by time, id limit ?');
const next = db.prepare(
	'select id, time, metric, region, channel, value from analytics_events where time >= ? and (time > ? or id > ?) order by time, id limit ?'
);

const record = (r) => ({ kind: 'record', cursor: `r.${r.time}.${r.id}`, id: r.id, time: r.time, metric: r.metric, region: r.region, channel: r.channel, value: r.value });

const server = createServer(async (req, res) => {
	const from = Number(new URL(req.url, 'http://x').searchParams.get('from'));
	res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-cache' });
	let closed = false;
	res.once('close', () => (closed = true));
	let pending = JSON.stringify({ kind: 'meta', mode: 'raw', from, total: null }) + '\n';
	let count = 1;
	const write = async (text) => {
		if (!res.write(text)) await new Promise((resolve) => res.once('drain', resolve));
	};
	let last = null;
	for (;;) {
		const rows = last ? next.all(Math.max(from, last.time), last.time, last.id, BATCH) : first.all(from, BATCH);
		for (const row of rows) {
			pending += JSON.stringify(record(row)) + '\n';
			if (++count >= PER_WRITE) {
				await write(pending);
				if (closed) return;
				pending = '';
				count = 0;
			}
		}
		if (rows.length < BATCH) break;
		last = rows[rows.length - 1];
	}
	res.end(pending);
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
