/** An HTTP error from the API, with the server's `{"error": string}` message when it sent one. */
export class ApiError extends Error {
	/** HTTP status code (0 when the request never got a response). */
	readonly status: number;

	constructor(status: number, message: string) {
		super(message);
		this.name = 'ApiError';
		this.status = status;
	}

	/** Builds the error from a status and a response body; falls back to the status text. */
	static fromBody(status: number, body: string, statusText = ''): ApiError {
		return new ApiError(status, messageOf(body) ?? (statusText || `HTTP ${status}`));
	}

	/** Builds the error from a non-2xx Response (reads its body). */
	static async from(response: Response): Promise<ApiError> {
		const body = await response.text().catch(() => '');
		return ApiError.fromBody(response.status, body, response.statusText);
	}
}

function messageOf(body: string): string | undefined {
	try {
		const parsed: unknown = JSON.parse(body);
		if (parsed && typeof parsed === 'object' && 'error' in parsed && typeof parsed.error === 'string') {
			return parsed.error;
		}
	} catch {
		// not JSON: the caller falls back to the status text
	}
	return undefined;
}
