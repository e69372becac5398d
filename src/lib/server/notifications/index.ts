import type { Selectable } from 'kysely';
import type { Notification, NotificationEvents, NotificationPage } from '$lib/shared/notifications';
import type { SseContext, SseMessage } from '$lib/stream/server';
import { follow } from '../bus/follow';
import type { NotificationsTable } from '../db/schema';
import { runtime } from '../runtime';
import * as validate from './validate';

export const PAGE_SIZE = 20;

/** The bus topic of one user's notifications. */
export const topic = (userId: number) => `user:${userId}`;

function view(row: Selectable<NotificationsTable>): Notification {
	return {
		id: row.id,
		type: row.type,
		title: row.title,
		body: row.body,
		link: row.link,
		created: Number(row.created_at),
		read: row.read_at !== null
	};
}

/** How many of a user's notifications are unread. */
export async function unreadCount(userId: number): Promise<number> {
	const row = await runtime()
		.store.db.selectFrom('notifications')
		.select((eb) => eb.fn.countAll<number>().as('count'))
		.where('user_id', '=', userId)
		.where('read_at', 'is', null)
		.executeTakeFirstOrThrow();
	return Number(row.count);
}

/** Stores a notification for a user and publishes it (and the new unread count) on their topic. */
export async function send(userId: number, input: { type: string; title: unknown; body: unknown; link?: unknown }): Promise<Notification> {
	const values = { type: input.type, ...validate.content(input) };
	const { db } = runtime().store;
	const row = await db
		.insertInto('notifications')
		.values({ user_id: userId, ...values, created_at: Date.now(), read_at: null })
		.returningAll()
		.executeTakeFirstOrThrow();
	const notification = view(row);
	await publish(userId, 'notification', notification);
	await publish(userId, 'unread', { count: await unreadCount(userId) });
	return notification;
}

/** Sends one notification to every user (an admin's system announcement); returns how many got it. */
export async function announce(input: { title: unknown; body: unknown; link?: unknown }): Promise<number> {
	const content = validate.content(input);
	const users = await runtime().store.db.selectFrom('users').select('id').execute();
	for (const { id } of users) await send(id, { type: 'announcement', ...content });
	return users.length;
}

/** A page of a user's notifications, newest first, older than `before` when given. */
export async function list(userId: number, options: { before?: number; limit?: number } = {}): Promise<NotificationPage> {
	const limit = Math.min(Math.max(options.limit ?? PAGE_SIZE, 1), 100);
	let query = runtime().store.db.selectFrom('notifications').selectAll().where('user_id', '=', userId);
	if (options.before !== undefined) query = query.where('id', '<', options.before);
	const rows = await query.orderBy('id', 'desc').limit(limit + 1).execute();
	const items = rows.slice(0, limit).map(view);
	return { items, unread: await unreadCount(userId), nextBefore: rows.length > limit ? items[items.length - 1].id : null };
}

/** Marks some of a user's notifications (or all) read; other tabs hear of it through the stream. */
export async function markRead(userId: number, which: { ids: number[] } | { all: true }): Promise<{ unread: number }> {
	let query = runtime()
		.store.db.updateTable('notifications')
		.set({ read_at: Date.now() })
		.where('user_id', '=', userId)
		.where('read_at', 'is', null);
	if ('ids' in which) query = query.where('id', 'in', which.ids.length ? which.ids : [-1]);
	await query.execute();
	const unread = await unreadCount(userId);
	await publish(userId, 'read', { ids: 'ids' in which ? which.ids : 'all' });
	await publish(userId, 'unread', { count: unread });
	return { unread };
}

/**
 * A user's live stream: the unread count first, then what came after the client's Last-Event-ID
 * (replayed), then live events, optionally only the given types.
 */
export function stream(userId: number, ctx: SseContext, types?: ReadonlySet<string>) {
	const prelude = async (): Promise<SseMessage<NotificationEvents>[]> =>
		!types || types.has('unread') ? [{ event: 'unread', data: { count: await unreadCount(userId) } }] : [];
	return follow<NotificationEvents>(topic(userId), ctx, { types, prelude });
}

function publish<K extends keyof NotificationEvents>(userId: number, type: K, data: NotificationEvents[K]): Promise<string> {
	return runtime().bus.publish(topic(userId), { type, data });
}
