// A fresh PostgreSQL database and Redis key prefix for each run of bench/cluster, dropped afterwards.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';

async function admin(base, sql) {
	const client = new pg.Client({ connectionString: base });
	await client.connect();
	try {
		await client.query(sql);
	} finally {
		await client.end();
	}
}

/**
 * Creates `runnel_bench_cluster_<random>` on the server of `databaseBase` and a prefix on `redisUrl`.
 * @example const stores = await freshStores(pgUrl, redisUrl); … env: stores.env … await stores.drop();
 */
export async function freshStores(databaseBase, redisUrl) {
	const suffix = randomBytes(4).toString('hex');
	const database = `runnel_bench_cluster_${suffix}`;
	const prefix = `runnel-bench:cluster:${suffix}:`;
	await admin(databaseBase, `CREATE DATABASE ${database}`);
	const url = new URL(databaseBase);
	url.pathname = `/${database}`;
	return {
		env: { DATABASE_URL: url.toString(), REDIS_URL: redisUrl, REDIS_PREFIX: prefix },
		async drop() {
			await admin(databaseBase, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
			const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
			try {
				let cursor = '0';
				do {
					const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
					cursor = next;
					if (keys.length) await redis.unlink(...keys);
				} while (cursor !== '0');
			} finally {
				redis.disconnect();
			}
		}
	};
}
