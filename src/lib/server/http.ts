import { errorResponse } from '$lib/stream/server/errors';
import { HttpError } from './errors';

/** Headers every answer of ours carries (hooks.server.ts; node-level.ts for what it answers itself). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
	'x-content-type-options': 'nosniff',
	'referrer-policy': 'same-origin',
	'x-frame-options': 'DENY',
	'permissions-policy': 'camera=(), microphone=(), geolocation=()'
};

/** What an API request without a valid session is told (401). */
export const SIGN_IN_FIRST = 'Sign in first.';

/**
 * Reads a JSON object body of at most `maxBytes`; 400/413/415 with a readable reason otherwise.
 * @example const { name } = await readJson(request);
 */
export async function readJson(request: Request, maxBytes = 64 * 1024): Promise<Record<string, unknown>> {
	const type = request.headers.get('content-type') ?? '';
	if (!/^application\/json\b/i.test(type)) throw new HttpError(415, 'Send the body as JSON (Content-Type: application/json).');
	const length = Number(request.headers.get('content-length') ?? 0);
	if (length > maxBytes) throw new HttpError(413, `The body is too large (at most ${maxBytes} bytes).`);
	const text = await request.text();
	if (text.length > maxBytes) throw new HttpError(413, `The body is too large (at most ${maxBytes} bytes).`);
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch {
		throw new HttpError(400, 'The body is not valid JSON.');
	}
	if (typeof value !== 'object' || value === null || Array.isArray(value)) {
		throw new HttpError(400, 'The body must be a JSON object.');
	}
	return value as Record<string, unknown>;
}

/** Runs an endpoint body, turning an HttpError into its JSON error response (the body's type is kept). */
export async function handleErrors<R extends Response>(run: () => Promise<R>): Promise<R> {
	try {
		return await run();
	} catch (error) {
		if (error instanceof HttpError) return errorResponse(error.status, error.message, { retryAfter: error.retryAfter || undefined }) as R;
		throw error;
	}
}

/** An optional whole-number query parameter; 400 naming it when it is not one in [min, max]. */
export function intParam(url: URL, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
	const raw = url.searchParams.get(name);
	if (raw === null || raw === '') return undefined;
	if (!/^\d{1,16}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
		throw new HttpError(400, `The "${name}" parameter must be a whole number from ${min} to ${max}.`);
	}
	return Number(raw);
}
