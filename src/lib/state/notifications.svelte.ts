import { getContext, setContext } from 'svelte';
import { getNotifications, openNotificationsStream, postNotificationsRead } from '$lib/api/notifications.api';
import type { Notification, NotificationEvents } from '$lib/shared/notifications';
import type { EventStream, EventsStatus } from '$lib/stream/client';
import { PagedList } from './paged-list.svelte';

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
type NotificationPage = Awaited<ReturnType<typeof getNotifications>>;

export class NotificationCenter extends PagedList<Notification, number, NotificationPage> {
	unread = $state(0);
	toasts = $state<Toast[]>([]);
	/** True while the Notifications page shows the list: new ones appear there, not as toasts. */
	listVisible = false;

	#stream = $state.raw<EventStream<NotificationEvents> | null>(null);
	/** The stream's first message came (the server had subscribed before it sent it). */
	#heard = $state(false);
	#toastKey = 0;
	/** Counts live `unread` events, so a list response that left before one can't overwrite it. */
	#unreadVersion = 0;
	#versionAsked = 0;
	protected readonly loadError = 'Could not load notifications.';

	/** New notifications arrive live (and as toasts) now: the stream is open and has spoken. */
	get live(): boolean {
		return this.#heard && this.status === 'open';
	}

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
			this.#heard = true;
			this.streamStarted();
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

	protected fetchPage(before: number | undefined): Promise<NotificationPage> {
		this.#versionAsked = this.#unreadVersion;
		return getNotifications({ before });
	}

	protected key(n: Notification): number {
		return n.id;
	}

	protected isNewer(n: Notification, top: Notification | undefined): boolean {
		return n.id > (top?.id ?? 0);
	}

	protected override pageMerged(page: NotificationPage): void {
		if (this.#versionAsked === this.#unreadVersion) this.unread = page.unread;
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
