/** A notification as pages see it. */
export interface Notification {
	id: number;
	/** What made it: `message` (sent by the API), `announcement`, later `mention`, `job`. */
	type: string;
	title: string;
	body: string;
	/** A same-site path to open, if any. */
	link: string | null;
	/** Unix ms. */
	created: number;
	read: boolean;
}

/** The events of a user's notification stream (event name -> data); a type, so it fits Record<string, unknown>. */
export type NotificationEvents = {
	/** A new notification. */
	notification: Notification;
	/** Some (or all) became read, in this or another tab or device. */
	read: { ids: number[] | 'all' };
	/** The unread count now. */
	unread: { count: number };
	/** The position asked for is gone: reload the list and continue fresh. */
	reset: { reason: 'too-old' | 'unknown' };
};

/** One page of notifications, newest first. */
export interface NotificationPage {
	items: Notification[];
	unread: number;
	/** Pass as `before` for the next (older) page; null at the end. */
	nextBefore: number | null;
}

export const NOTIFICATION_TITLE_MAX = 200;
export const NOTIFICATION_BODY_MAX = 2000;
