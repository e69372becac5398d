import { redirect, type Handle, type ServerInit } from '@sveltejs/kit';
import * as accounts from '$lib/server/accounts';
import * as chat from '$lib/server/chat';
import * as files from '$lib/server/files';
import { SECURITY_HEADERS, SIGN_IN_FIRST } from '$lib/server/http';
import { initRuntime } from '$lib/server/runtime';
import { configureSse } from '$lib/stream/server';
import { errorResponse } from '$lib/stream/server/errors';
import { forSetResponse } from '$lib/stream/server/node-body';

/** Paths anyone may open; everything else needs a session. */
const PUBLIC = [/^\/signin\/?$/, /^\/signup\/?$/, /^\/api\/auth\//, /^\/favicon/, /^\/_app\//, /^\/robots\.txt$/];

let sharesPosted = false;

export const init: ServerInit = async () => {
	const rt = await initRuntime();
	// The share route runs in this bundle: its listeners live in this bundle's copy of the files module.
	if (!sharesPosted) files.onShared(chat.postFileShared);
	sharesPosted = true;
	configureSse({
		heartbeatMs: rt.config.sseHeartbeatMs,
		maxQueue: rt.config.sseMaxQueue,
		maxStreamsPerKey: rt.config.sseMaxStreamsPerUser,
		shutdown: rt.closing,
		onError: (error) => rt.log.error({ err: error }, 'event stream failed')
	});
};

export const handle: Handle = async ({ event, resolve }) => {
	event.locals.user = await accounts.authenticate(event.cookies.get(accounts.SESSION_COOKIE));

	const path = event.url.pathname;
	if (!event.locals.user && !PUBLIC.some((re) => re.test(path))) {
		if (path.startsWith('/api/')) return errorResponse(401, SIGN_IN_FIRST);
		const back = path === '/' ? '' : `?redirectTo=${encodeURIComponent(path + event.url.search)}`;
		redirect(303, `/signin${back}`);
	}

	const response = await resolve(event);
	for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
		if (!response.headers.has(name)) response.headers.set(name, value);
	}
	// setResponse() writes event streams to the socket without a web ReadableStream per connection.
	return event.isSubRequest ? response : forSetResponse(response);
};
