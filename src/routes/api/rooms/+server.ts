import type { RequestHandler } from '@sveltejs/kit';
import { handleErrors } from '$lib/server/http';
import * as rooms from '$lib/server/rooms';
import { json } from '$lib/stream/server';

/** The rooms I am a member of (to share files into, for now; chat builds on it). */
export const GET = (({ locals }) => handleErrors(async () => json({ items: await rooms.mine(locals.user!.id) }))) satisfies RequestHandler;
