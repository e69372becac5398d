// nginx for end-to-end tests: deploy/nginx.conf made runnable in a temp dir, started as a child.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';

/** The nginx binary (NGINX_PATH, else Debian's /usr/sbin/nginx), or undefined when it is not there. */
export function nginxBinary(): string | undefined {
	const path = process.env.NGINX_PATH || '/usr/sbin/nginx';
	return existsSync(path) && spawnSync(path, ['-v']).status === 0 ? path : undefined;
}

/** Where the test's copy listens and proxies to; everything nginx writes goes under `dir`. */
export interface NginxSetup {
	dir: string;
	port: number;
	upstreams: [number, number];
	/** Takes the client address from X-Forwarded-For sent by 127.0.0.1, so a test can pose as several clients. */
	trustLocalForwardedFor?: boolean;
}

/**
 * deploy/nginx.conf with its listen address, upstream ports and paths swapped for the test's: fails
 * when the example no longer has a line it swaps, so the test keeps running the example itself.
 * The access log names each request's client and upstream (`client=… upstream=…`).
 */
export function configFromExample(example: string, setup: NginxSetup): string {
	const { dir, port, upstreams } = setup;
	const user = process.getuid?.() === 0 ? `\nuser ${userInfo().username};` : '';
	const realIp = setup.trustLocalForwardedFor ? '\n\tset_real_ip_from 127.0.0.1;\n\treal_ip_header X-Forwarded-For;' : '';
	const http = [
		`log_format runnel '$request_method $uri $status client=$remote_addr upstream=$upstream_addr';`,
		`access_log ${dir}/access.log runnel;${realIp}`,
		...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((name) => `${name}_temp_path ${dir}/${name};`)
	].join('\n\t');
	// Functions, so that nginx's own `$variables` are not read as replacement patterns.
	const swaps: [RegExp, (match: string, indent: string) => string][] = [
		[/^worker_processes .*;$/m, () => `worker_processes 1;${user}`],
		[/^pid .*;$/m, () => `pid ${dir}/nginx.pid;`],
		[/^error_log .*;$/m, () => `error_log ${dir}/error.log warn;`],
		[/^(\t)access_log .*;$/m, (_, indent) => `${indent}${http}`],
		[/^(\t+)server 127\.0\.0\.1:3001\b/m, (_, indent) => `${indent}server 127.0.0.1:${upstreams[0]}`],
		[/^(\t+)server 127\.0\.0\.1:3002\b/m, (_, indent) => `${indent}server 127.0.0.1:${upstreams[1]}`],
		[/^(\t+)listen 80;$/m, (_, indent) => `${indent}listen 127.0.0.1:${port};`]
	];
	let config = example;
	for (const [pattern, replace] of swaps) {
		if (!pattern.test(config)) throw new Error(`deploy/nginx.conf no longer matches ${pattern}: update tests/support/nginx.ts`);
		config = config.replace(pattern, replace);
	}
	return config;
}

/** A running nginx: its access log so far, and stop(). */
export interface RunningNginx {
	url: string;
	accessLog(): string;
	stop(): Promise<void>;
}

/**
 * Starts `nginx -g 'daemon off;'` on a config from deploy/nginx.conf and waits until it answers.
 * @example const nginx = await startNginx(binary, { dir, port, upstreams: [a.port, b.port] }); … await nginx.stop();
 */
export async function startNginx(binary: string, setup: NginxSetup): Promise<RunningNginx> {
	mkdirSync(setup.dir, { recursive: true });
	const file = join(setup.dir, 'nginx.conf');
	writeFileSync(file, configFromExample(readFileSync(join(process.cwd(), 'deploy', 'nginx.conf'), 'utf8'), setup));
	const child = spawn(binary, ['-e', join(setup.dir, 'error.log'), '-p', setup.dir, '-c', file, '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
	// The master ends its workers on SIGTERM; if the test process goes first, nginx goes with it.
	const onExit = () => child.kill('SIGTERM');
	process.once('exit', onExit);
	let output = '';
	child.stdout!.on('data', (chunk) => (output += chunk));
	child.stderr!.on('data', (chunk) => (output += chunk));
	const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
	const url = `http://127.0.0.1:${setup.port}`;
	const deadline = Date.now() + 10_000;
	for (;;) {
		if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): ${output}${readLog(join(setup.dir, 'error.log'))}`);
		if (await fetch(`${url}/signin`, { method: 'HEAD' }).then(() => true, () => false)) break;
		if (Date.now() > deadline) throw new Error(`nginx did not answer on ${url} in 10 s: ${output}`);
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
	return {
		url,
		accessLog: () => readLog(join(setup.dir, 'access.log')),
		async stop() {
			process.off('exit', onExit);
			if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
			const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
			await exited;
			clearTimeout(timer);
		}
	};
}

function readLog(path: string): string {
	return existsSync(path) ? readFileSync(path, 'utf8') : '';
}
