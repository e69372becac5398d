// nginx from Debian's packages with sendfile, on its own temp config and a free 127.0.0.1 port.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** The nginx binary, or null when it is not installed. */
export function findNginx() {
	for (const candidate of ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx']) {
		if (spawnSync(candidate, ['-v']).status === 0) return candidate;
	}
	const which = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' });
	return which.status === 0 ? which.stdout.trim() : null;
}

function freePort() {
	return new Promise((resolve, reject) => {
		const probe = createServer();
		probe.once('error', reject);
		probe.listen(0, '127.0.0.1', () => {
			const { port } = probe.address();
			probe.close(() => resolve(port));
		});
	});
}

/** One worker, sendfile on, no access log, everything it writes under `workDir`, serving `root`. */
function config(workDir, root, port) {
	const temp = (name) => join(workDir, name);
	return `worker_processes 1;
${process.getuid?.() === 0 ? 'user root root;' : ''}
pid ${temp('nginx.pid')};
error_log ${temp('error.log')} warn;
events { worker_connections 1024; }
http {
	default_type application/octet-stream;
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 1000000;
	keepalive_timeout 60s;
	client_body_temp_path ${temp('body')};
	proxy_temp_path ${temp('proxy')};
	fastcgi_temp_path ${temp('fastcgi')};
	uwsgi_temp_path ${temp('uwsgi')};
	scgi_temp_path ${temp('scgi')};
	server {
		listen 127.0.0.1:${port} backlog=1024;
		root ${root};
		location / { }
	}
}
`;
}

/**
 * Starts `nginx -g 'daemon off;'` as a child (pinned with `pin`, e.g. ['taskset', '-c', '0']) and
 * resolves once it answers on its port; `child` is the master, `stop()` ends it.
 * @example const nginx = await startNginx(binary, workDir, root, ['taskset', '-c', '0']); await nginx.stop();
 */
export async function startNginx(binary, workDir, root, pin) {
	mkdirSync(workDir, { recursive: true });
	const port = await freePort();
	const file = join(workDir, 'nginx.conf');
	writeFileSync(file, config(workDir, root, port));
	const [command, ...args] = [...pin, binary, '-e', join(workDir, 'error.log'), '-p', workDir, '-c', file, '-g', 'daemon off;'];
	let output = '';
	const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
	child.stdout.on('data', (chunk) => (output += chunk));
	child.stderr.on('data', (chunk) => (output += chunk));
	const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
	const deadline = performance.now() + 5000;
	for (;;) {
		if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): ${output.trim()}`);
		const up = await fetch(`http://127.0.0.1:${port}/`, { method: 'HEAD' }).then(() => true, () => false);
		if (up) break;
		if (performance.now() > deadline) throw new Error(`nginx did not answer on ${port} in 5 s: ${output.trim()}`);
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
	return {
		port,
		child,
		async stop() {
			if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
			const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
			await exited;
			clearTimeout(timer);
		}
	};
}
