import type { JsonResponse } from './types';

/**
 * A JSON response typed with its body, so the generated client knows what it returns.
 * @example return json({ items }, { status: 201 });
 */
export function json<T>(body: T, init?: ResponseInit): JsonResponse<T> {
	const headers = new Headers(init?.headers);
	if (!headers.has('content-type')) headers.set('content-type', 'application/json');
	if (!headers.has('cache-control')) headers.set('cache-control', 'no-store');
	return new Response(JSON.stringify(body), { ...init, headers }) as JsonResponse<T>;
}
