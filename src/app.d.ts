import type { SessionUser } from '$lib/server/accounts';

declare global {
	namespace App {
		interface Locals {
			user: (SessionUser & { sessionId: string }) | null;
		}
		interface PageData {
			user?: { id: number; name: string; role: 'user' | 'admin' } | null;
		}
		interface Error {
			message: string;
		}
	}
}

export {};
