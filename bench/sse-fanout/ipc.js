// Request/reply over a child process's IPC channel: `{ id, type, ... }` out, `{ id, result | error }` back.

/**
 * Answers the parent's requests with `commands[type](message)`; exits when the parent goes away.
 * @example answer({ ping: async () => 'pong' });
 */
export function answer(commands) {
	process.on('disconnect', () => process.exit(0));
	process.on('message', async (message) => {
		try {
			const command = commands[message.type];
			if (!command) throw new Error(`unknown command ${message.type}`);
			process.send({ id: message.id, result: await command(message) });
		} catch (error) {
			process.send({ id: message.id, error: String(error?.stack ?? error) });
		}
	});
}

let nextId = 0;

/**
 * Sends one request to a child and resolves with its reply (rejects on an error reply or child exit).
 * @example const { port } = await call(server, { type: 'ready' });
 */
export function call(child, message) {
	const id = ++nextId;
	return new Promise((resolve, reject) => {
		const onMessage = (reply) => {
			if (reply?.id !== id) return;
			done();
			if (reply.error) reject(new Error(`${message.type} failed in child: ${reply.error}`));
			else resolve(reply.result);
		};
		const onExit = (code, signal) => {
			done();
			reject(new Error(`child exited (${signal ?? code}) during ${message.type}`));
		};
		const done = () => {
			child.off('message', onMessage);
			child.off('exit', onExit);
		};
		child.on('message', onMessage);
		child.on('exit', onExit);
		child.send({ ...message, id });
	});
}
