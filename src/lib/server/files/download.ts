import type { FileRequest, FileSource } from '$lib/stream/server';
import * as analytics from '../analytics';
import { open, type Viewer } from './access';

/**
 * The file `user` asks to download, for file() (404 unless they may see it). A GET that starts at
 * byte 0 counts once in analytics; its resumes (later ranges) and HEADs don't.
 * @example return file(request, await files.openForDownload(locals.user, params.id, request));
 */
export async function openForDownload(user: Viewer, id: string, request: FileRequest): Promise<FileSource> {
	const source = await open(user, id);
	if (request.method.toUpperCase() === 'GET') {
		const range = request.headers.get('range');
		if (!range || /^bytes=0-/.test(range)) {
			void analytics.track({ metric: 'downloads', value: source.size, userId: user.id, userAgent: request.headers.get('user-agent') });
		}
	}
	return source;
}
