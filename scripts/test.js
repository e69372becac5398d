// `npm test`: type check, unit tests, production build, end-to-end tests; ends with "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';

const OUT = '.test-output';
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });

const totals = { passed: 0, failed: 0, skipped: 0 };
/** @type {string[]} */
const failures = [];

/** Runs a command with inherited output; true when it exits 0.
 * @param {string} title @param {string} command @param {string[]} args @param {Record<string, string>} [env] */
function run(title, command, args, env = {}) {
	console.log(`\n▶ ${title}: ${command} ${args.join(' ')}`);
	const result = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, ...env } });
	return result.status === 0;
}

/** A step that is one check: it passes or fails as a whole.
 * @param {string} title @param {string} command @param {string[]} args */
function step(title, command, args) {
	const ok = run(title, command, args);
	if (ok) totals.passed++;
	else {
		totals.failed++;
		failures.push(title);
	}
	return ok;
}

/** Reads a runner's JSON report and adds its counts; a missing report counts as one failure.
 * @param {string} title @param {string} file
 * @param {(report: any) => { passed: number; failed: number; skipped: number }} read */
function count(title, file, read) {
	if (!existsSync(file)) {
		totals.failed++;
		failures.push(`${title} (no report)`);
		return;
	}
	const { passed, failed, skipped } = read(JSON.parse(readFileSync(file, 'utf8')));
	totals.passed += passed;
	totals.failed += failed;
	totals.skipped += skipped;
	if (failed) failures.push(`${title}: ${failed} failed`);
}

if (existsSync('scripts/gen.js')) step('generated clients are fresh', 'node', ['scripts/gen.js', '--check']);
run('svelte-kit sync', 'npx', ['svelte-kit', 'sync']);
step('svelte-check', 'npx', ['svelte-check', '--tsconfig', './tsconfig.json', '--fail-on-warnings']);

// On the embedded default (SQLite, the in-process bus): the cluster settings are for the pass below.
run('unit tests (vitest)', 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile=${OUT}/vitest.json`], { TEST_DATABASE_URL: '', TEST_REDIS_URL: '' });
/** Vitest's JSON report as counts (a file that failed to load counts as a failure). @param {any} r */
const vitestCounts = (r) => ({ passed: r.numPassedTests, failed: r.numFailedTests + (r.numFailedTestSuites && !r.numFailedTests ? r.numFailedTestSuites : 0), skipped: r.numPendingTests + r.numTodoTests });
count('vitest', `${OUT}/vitest.json`, vitestCounts);

// The server-side suite again in cluster mode: each spec file gets a fresh PostgreSQL database and,
// with TEST_REDIS_URL, a Redis key prefix (bus and Socket.IO adapter), dropped after.
if (process.env.TEST_DATABASE_URL) {
	const suiteMode = process.env.TEST_REDIS_URL ? 'PostgreSQL and Redis' : 'PostgreSQL (TEST_REDIS_URL not set: in-process bus)';
	run(`server suite on ${suiteMode} (vitest, TEST_DATABASE_URL)`, 'npx', [
		'vitest', 'run', 'src/lib/server', '--reporter=default', '--reporter=json', `--outputFile=${OUT}/vitest-postgres.json`
	]);
	count('vitest on PostgreSQL', `${OUT}/vitest-postgres.json`, vitestCounts);
} else {
	console.log('\n▶ server suite on PostgreSQL: skipped (set TEST_DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/test; .ci/run does)');
}

/** Playwright's JSON report as counts (errors outside tests, such as a failed teardown, count as failures). @param {any} r */
const playwrightCounts = (r) => ({
	passed: r.stats.expected + r.stats.flaky,
	failed: r.stats.unexpected + (r.errors?.length ?? 0),
	skipped: r.stats.skipped
});

if (step('production build', 'npm', ['run', 'build'])) {
	run('end-to-end tests (playwright)', 'npx', ['playwright', 'test']);
	count('playwright', `${OUT}/playwright.json`, playwrightCounts);

	// The end-to-end suite again in cluster mode: every server on PostgreSQL (a fresh database per
	// DATA_DIR, dropped after) and, with TEST_REDIS_URL, on Redis (bus and Socket.IO adapter, a key prefix per DATA_DIR).
	if (process.env.TEST_DATABASE_URL) {
		// playwright.config.ts writes this run's report to playwright-postgres.json.
		const mode = process.env.TEST_REDIS_URL ? 'PostgreSQL and Redis' : 'PostgreSQL (TEST_REDIS_URL not set: in-process bus)';
		run(`end-to-end tests on ${mode} (playwright, E2E_STORE=postgres)`, 'npx', ['playwright', 'test'], { E2E_STORE: 'postgres' });
		count('playwright on PostgreSQL', `${OUT}/playwright-postgres.json`, playwrightCounts);
	} else {
		console.log('\n▶ end-to-end tests on PostgreSQL: skipped (set TEST_DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/test; .ci/run does)');
	}
}

if (failures.length) console.log(`\nFailed: ${failures.join('; ')}`);
console.log(`\n${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`);
process.exit(totals.failed ? 1 : 0);
