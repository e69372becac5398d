import { ApiError } from './api-error';
import { withQuery, type QueryParams } from './query';

/** What a generated JSON helper accepts besides its parameters. */
export interface CallOptions {
	/** Aborts the request. */
	signal?: AbortSignal;
	/** The fetch to use: pass SvelteKit's from a load function. */
	fetch?: typeof fetch;
}

/** Options of requestJson. */
export interface RequestOptions extends CallOptions {
	/** Query parameters (see withQuery for the serialization). */
	query?: QueryParams;
	/** Sent as JSON when defined. */
	body?: unknown;
}

/**
 * Calls a JSON endpoint; throws ApiError on a non-2xx status; an empty body (204) gives undefined.
 * @example const { items } = await requestJson<{ items: Item[] }>('GET', '/api/items', { query: { limit: 10 } });
 */
export async function requestJson<T>(method: string, url: string, options: RequestOptions = {}): Promise<T> {
	const headers: Record<string, string> = { accept: 'application/json' };
	const init: RequestInit = { method, headers, signal: options.signal };
	if (options.body !== undefined) {
		headers['content-type'] = 'application/json';
		init.body = JSON.stringify(options.body);
	}
	const response = await (options.fetch ?? fetch)(withQuery(url, options.query), init);
	if (!response.ok) throw await ApiError.from(response);
	const text = await response.text();
	return (text ? JSON.parse(text) : undefined) as T;
}
