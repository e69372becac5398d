import { mergePage } from './paging';

/** A page as the list endpoints answer it: newest first, and where the next older page starts. */
export interface Page<T, C> {
	items: T[];
	nextBefore: C | null;
}

/**
 * A list shown newest first, loaded a page at a time and fed live by an event stream: the state
 * (items, paging, loading, error) and the loading rules that the notifications, files and jobs
 * lists share. A subclass says how to fetch a page, what tells items apart and which is newer.
 * @example class Files extends PagedList<FileView, string, Page<FileView, string>> { … }
 */
export abstract class PagedList<T, C, P extends Page<T, C> = Page<T, C>> {
	items = $state<T[]>([]);
	/** Where the next older page starts; null until the first page loaded, or at the end. */
	nextBefore = $state<C | null>(null);
	loaded = $state(false);
	loading = $state(false);
	error = $state<string | null>(null);

	/** The stream's first sign of life came (a fresh stream starts at the newest event). */
	#opened = false;
	/** A page in flight may predate where the stream started: load the first page again after it. */
	#stale = false;

	/** Fetches the newest page (`before` undefined) or the one older than `before`. */
	protected abstract fetchPage(before: C | undefined): Promise<P>;
	/** What tells two items apart. */
	protected abstract key(item: T): string | number;
	/** Whether a live item is newer than the newest item of a first page (then it is kept). */
	protected abstract isNewer(item: T, newestOnPage: T | undefined): boolean;
	/** What the page says when a page could not be loaded and the error has no message. */
	protected abstract readonly loadError: string;

	/** Called after a page was merged in, with the page and the items before it. */
	protected pageMerged(_page: P, _before: T[]): void {}

	/** Loads the newest page again. */
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
		try {
			const page = await this.fetchPage(first ? undefined : (this.nextBefore ?? undefined));
			const before = this.items;
			this.items = mergePage(before, page.items, first, (item) => this.key(item), (item, top) => this.isNewer(item, top));
			this.nextBefore = page.nextBefore;
			this.loaded = true;
			this.pageMerged(page, before);
		} catch (error) {
			this.error = (error as Error).message || this.loadError;
		} finally {
			this.loading = false;
		}
		if (this.#stale) {
			this.#stale = false;
			await this.reload();
		}
	}

	/**
	 * Call on the live stream's first message or open. A fresh stream starts at the newest event:
	 * an item stored after the page was listed but before the stream began would be in neither,
	 * so the first page is listed again (after the one in flight, if any).
	 */
	protected streamStarted(): void {
		if (this.#opened) return;
		this.#opened = true;
		if (this.loading) this.#stale = true;
		else if (this.loaded) void this.reload();
	}
}
