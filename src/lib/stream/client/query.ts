/** A query parameter value: arrays are joined with ",", undefined and null are left out. */
export type QueryValue = string | number | boolean | null | undefined | readonly (string | number | boolean)[];

/** Query parameters of a request (declare route `Query` types with `type`, not `interface`). */
export type QueryParams = Record<string, QueryValue>;

/**
 * Appends `query` to `url`: arrays joined with ",", numbers and booleans as strings,
 * undefined, null and empty arrays skipped.
 * @example withQuery('/api/x', { types: ['a', 'b'], before: 5 }) // '/api/x?types=a%2Cb&before=5'
 */
export function withQuery(url: string, query?: QueryParams): string {
	if (!query) return url;
	const params = new URLSearchParams();
	for (const [key, value] of Object.entries(query)) {
		if (value === undefined || value === null) continue;
		if (Array.isArray(value)) {
			if (value.length > 0) params.set(key, value.join(','));
		} else {
			params.set(key, String(value));
		}
	}
	const search = params.toString();
	if (!search) return url;
	return url + (url.includes('?') ? '&' : '?') + search;
}
