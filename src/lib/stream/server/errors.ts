import { json } from './json';

/** What a client is told when a stream fails for a reason that is not its own. */
export const GENERIC_ERROR = 'The stream failed; try again later.';

/** The status, message and Retry-After (seconds) of an HttpError-like error (`status` 400–599), else undefined. */
export function httpError(error: unknown): { status: number; message: string; retryAfter?: number } | undefined {
	const { status, message, retryAfter } = (error ?? {}) as { status?: unknown; message?: unknown; retryAfter?: unknown };
	if (typeof status !== 'number' || status < 400 || status > 599) return undefined;
	return { status, message: String(message ?? ''), retryAfter: typeof retryAfter === 'number' ? retryAfter : undefined };
}

/**
 * A JSON `{"error": message}` response with its status, and Retry-After when given.
 * @example return errorResponse(429, 'Too many open streams.', { retryAfter: 5 });
 */
export function errorResponse(status: number, message: string, options: { retryAfter?: number; headers?: HeadersInit } = {}): Response {
	const headers = new Headers(options.headers);
	if (options.retryAfter !== undefined) headers.set('retry-after', String(options.retryAfter));
	return json({ error: message }, { status, headers });
}

/** The answer to an error thrown before a stream started: its own status when HttpError-like, else a 500 (after `onError`). */
export function startFailure(error: unknown, onError?: (error: unknown) => void): Response {
	const known = httpError(error);
	if (!known) onError?.(error);
	return known ? errorResponse(known.status, known.message, { retryAfter: known.retryAfter }) : errorResponse(500, GENERIC_ERROR);
}

/** The client-facing message of an error raised mid-stream (after `onError` for unexpected ones). */
export function streamErrorMessage(error: unknown, onError?: (error: unknown) => void): string {
	const known = httpError(error);
	if (!known) onError?.(error);
	return known?.message ?? GENERIC_ERROR;
}
