import { getContext, setContext } from 'svelte';
import { getNotifications, openNotificationsStream, postNotificationsRead } from '$lib/api/notifications.api';
import type { Notification, NotificationEvents } from '$lib/shared/notifications';
import type { EventStream, EventsStatus } from '$lib/stream/client';
import { mergePage } from './paging';

/** A notification shown briefly as a toast. */
export interface Toast {
	key: number;
	notification: Notification;
}

const TOAST_MS = 6000;
/** Live notifications kept in memory before the list is opened. */
const MAX_KEPT = 200;
const KEY = Symbol('notifications');

/**
 * The signed-in user's notifications on every page: the live unread count, toasts for new ones,
 * and the paginated list that the Notifications page shows. Other tabs' reads arrive as events.
 */
export class NotificationCenter {
	unread = $state(0);
	items = $state<Notification[]>([]);
	toasts = $state<Toast[]>([]);
	/** Null until the first page loaded. */
	nextBefore = $state<number | null>(null);
	loaded = $state(false);
	loading = $state(false);
	error = $state<string | null>(null);
	/** True while the Notifications page shows the list: new ones appear there, not as toasts. */
	listVisible = false;

	#stream = $state.raw<EventStream<NotificationEvents> | null>(null);
	#toastKey = 0;
	/** Counts live `unread` events, so a list response that left before one can't overwrite it. */
	#unreadVersion = 0;
	/** The stream's first message has arrived (a fresh stream starts at the newest event). */
	#opened = false;
	/** A list response in flight may predate where the stream started: load the page again after it. */
	#stale = false;

	/** Where the live stream is (for a connection hint). */
	get status(): EventsStatus {
		return this.#stream?.status ?? 'closed';
	}

	/** Opens the stream; call once in the browser. */
	start(): void {
		const stream = (this.#stream = openNotificationsStream());
		stream.onMessage('unread', ({ count }) => {
			this.#unreadVersion++;
			this.unread = count;
			if (!this.#opened) {
				this.#opened = true;
				// A fresh stream starts at the newest event: one stored after a page was listed but
				// before the stream began would be in neither. Listing again closes that gap.
				if (this.loading) this.#stale = true;
				else if (this.loaded) void this.reload();
			}
		});
		stream.onMessage('notification', (notification) => {
			// Kept even while a page loads: the response may have left before this was stored.
			if (!this.items.some((n) => n.id === notification.id)) this.items = [notification, ...this.items].slice(0, MAX_KEPT);
			if (!this.listVisible) this.#toast(notification);
		});
		stream.onMessage('read', ({ ids }) => {
			this.items = this.items.map((n) => (ids === 'all' || ids.includes(n.id) ? { ...n, read: true } : n));
		});
		stream.onReset(() => {
			if (this.loaded) void this.reload();
		});
	}

	/** Closes the stream and clears the toasts' timers. */
	stop(): void {
		this.#stream?.close();
		this.#stream = null;
	}

	/** Loads the newest page (again), keeping live ones newer than it. */
	async reload(): Promise<void> {
		this.loaded = false;
		this.nextBefore = null;
		await this.loadMore();
	}

	/** Loads the next older page (the newest when nothing is loaded yet). */
	async loadMore(): Promise<void> {
		if (this.loading) return;
		this.loading = true;
		this.error = null;
		const first = !this.loaded;
		const version = this.#unreadVersion;
		try {
			const page = await getNotifications({ before: first ? undefined : (this.nextBefore ?? undefined) });
			this.items = mergePage(this.items, page.items, first, (n) => n.id, (n, top) => n.id > (top?.id ?? 0));
			this.nextBefore = page.nextBefore;
			if (version === this.#unreadVersion) this.unread = page.unread;
			this.loaded = true;
		} catch (error) {
			this.error = (error as Error).message || 'Could not load notifications.';
		} finally {
			this.loading = false;
		}
		if (this.#stale) {
			this.#stale = false;
			await this.reload();
		}
	}

	/** Marks one notification read. */
	async markRead(id: number): Promise<void> {
		this.items = this.items.map((n) => (n.id === id ? { ...n, read: true } : n));
		await this.#mark({ ids: [id] });
	}

	/** Marks every notification read. */
	async markAllRead(): Promise<void> {
		this.items = this.items.map((n) => ({ ...n, read: true }));
		await this.#mark({ all: true });
	}

	/** Hides a toast now. */
	dismiss(key: number): void {
		this.toasts = this.toasts.filter((t) => t.key !== key);
	}

	async #mark(which: { ids: number[] } | { all: true }): Promise<void> {
		try {
			this.unread = (await postNotificationsRead(which)).unread;
		} catch (error) {
			this.error = (error as Error).message || 'Could not mark as read.';
		}
	}

	#toast(notification: Notification): void {
		const key = ++this.#toastKey;
		this.toasts = [...this.toasts.slice(-2), { key, notification }];
		setTimeout(() => this.dismiss(key), TOAST_MS);
	}
}

/** Makes the center available to the pages below (call in the app layout). */
export function provideNotifications(center: NotificationCenter): void {
	setContext(KEY, center);
}

/** The center provided by the app layout. */
export function useNotifications(): NotificationCenter {
	return getContext<NotificationCenter>(KEY);
}
