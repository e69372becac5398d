import type { RequestHandler } from '@sveltejs/kit';
import * as analytics from '$lib/server/analytics';
import { handleErrors } from '$lib/server/http';
import * as uploads from '$lib/server/uploads';
import { json } from '$lib/stream/server';

const headers = (offset: number) => ({ 'upload-offset': String(offset), 'cache-control': 'no-store' });

/** Where my upload stands: `{ id, name, size, offset }` (also in Upload-Offset). */
export const GET = (({ params, locals }) =>
	handleErrors(async () => {
		const upload = await uploads.status(locals.user!.id, params.id!);
		return json(upload, { headers: headers(upload.offset) });
	})) satisfies RequestHandler;

/** The server's offset in Upload-Offset, with no body: where to resume. */
export const HEAD = (({ params, locals }) =>
	handleErrors(async () => new Response(null, { headers: headers((await uploads.status(locals.user!.id, params.id!)).offset) }))) satisfies RequestHandler;

/** A refusal sent before the body was read closes the connection, so no client reuses a socket with bytes still in flight. */
function closeIfUnread(request: Request, response: Response): Response {
	if (response.status >= 400 && !request.bodyUsed) response.headers.set('connection', 'close');
	return response;
}

/** One chunk (raw bytes; Upload-Offset, Upload-Checksum: sha256 <base64>): 204 with the new offset, 201 with the file at the end, 409 with the server's offset. */
export const PATCH = (({ request, params, locals }) =>
	handleErrors(async () => {
		const result = await uploads.append(locals.user!.id, params.id!, request);
		if (result.kind === 'done') {
			void analytics.track({ metric: 'uploads', value: result.file.size, userId: locals.user!.id, userAgent: request.headers.get('user-agent') });
			return json({ file: result.file }, { status: 201, headers: headers(result.file.size) });
		}
		if (result.kind === 'conflict') return json({ error: `The upload is at byte ${result.offset}: resume from there.`, offset: result.offset }, { status: 409, headers: headers(result.offset) });
		return new Response(null, { status: 204, headers: headers(result.offset) });
	}).then((response) => closeIfUnread(request, response))) satisfies RequestHandler;

/** Cancels my upload: its bytes are gone. */
export const DELETE = (({ params, locals }) =>
	handleErrors(async () => {
		await uploads.cancel(locals.user!.id, params.id!);
		return json({ id: params.id!, cancelled: true });
	})) satisfies RequestHandler;
