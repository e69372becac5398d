import { deleteFile, downloadFileById, getFiles, openFilesEvents, postFileShare, postFileVisibility } from '$lib/api/files.api';
import { getRooms } from '$lib/api/rooms.api';
import type { EventStream } from '$lib/stream/client';
import { mergePage } from '$lib/state/paging';

export type FileView = Awaited<ReturnType<typeof getFiles>>['items'][number];
export type RoomOption = Awaited<ReturnType<typeof getRooms>>['items'][number];
type FileEvents = ReturnType<typeof openFilesEvents> extends EventStream<infer E> ? E : never;

/** A download in progress: bytes so far of the total. */
export interface DownloadState {
	received: number;
	total: number | null;
}

/** The files I may see, kept live by the files event stream; downloads and owner actions. */
export class FileList {
	items = $state<FileView[]>([]);
	rooms = $state<RoomOption[]>([]);
	nextBefore = $state<string | null>(null);
	loaded = $state(false);
	loading = $state(false);
	error = $state<string | null>(null);
	downloads = $state<Record<string, DownloadState>>({});

	#stream: EventStream<FileEvents> | null = null;
	/** The stream opened once (a fresh stream starts at the newest event). */
	#opened = false;
	/** A list response in flight may predate where the stream started: load the page again after it. */
	#stale = false;

	/** Loads the first page and the rooms, and follows live changes. */
	start(): void {
		const stream = (this.#stream = openFilesEvents());
		stream.onMessage('created', (file) => this.#upsert({ ...file, sharedInto: [] }, true));
		// A file I could not see before (made public) arrives as an update: add it.
		stream.onMessage('updated', (file) => this.#upsert({ ...file, sharedInto: this.#find(file.id)?.sharedInto ?? [] }, true));
		stream.onMessage('shared', ({ file, room }) => {
			const known = this.#find(file.id);
			const sharedInto = [...(known?.sharedInto ?? []).filter((r) => r.id !== room.id), room];
			this.#upsert({ ...file, sharedInto }, !known);
		});
		stream.onMessage('removed', ({ id }) => (this.items = this.items.filter((f) => f.id !== id)));
		stream.onReset(() => void this.reload());
		stream.onOpen(() => {
			if (this.#opened) return;
			this.#opened = true;
			// A file created after the page was listed but before the stream began would be in
			// neither: listing again closes that gap.
			if (this.loading) this.#stale = true;
			else if (this.loaded) void this.reload();
		});
		void this.reload();
		void getRooms().then(({ items }) => (this.rooms = items), () => {});
	}

	stop(): void {
		this.#stream?.close();
	}

	/** Loads the newest page again. */
	async reload(): Promise<void> {
		this.loaded = false;
		this.nextBefore = null;
		await this.loadMore();
	}

	/** Loads the next older page. */
	async loadMore(): Promise<void> {
		if (this.loading) return;
		this.loading = true;
		this.error = null;
		const first = !this.loaded;
		try {
			const page = await getFiles(first ? {} : { before: this.nextBefore ?? undefined });
			this.items = mergePage(this.items, page.items, first, (f) => f.id, (f, top) => f.created > (top?.created ?? 0));
			this.nextBefore = page.nextBefore;
			this.loaded = true;
		} catch (error) {
			this.error = (error as Error).message || 'Could not load files.';
		} finally {
			this.loading = false;
		}
		if (this.#stale) {
			this.#stale = false;
			await this.reload();
		}
	}

	/** Downloads a file with progress, verifies it, and hands it to the browser. */
	async download(file: FileView): Promise<void> {
		this.downloads[file.id] = { received: 0, total: file.size };
		try {
			const blob = await downloadFileById(file.id, { onProgress: (p) => (this.downloads[file.id] = p) });
			const url = URL.createObjectURL(blob);
			const link = Object.assign(document.createElement('a'), { href: url, download: file.name });
			link.click();
			setTimeout(() => URL.revokeObjectURL(url), 10_000);
		} catch (error) {
			this.error = `Download of ${file.name} failed: ${(error as Error).message}`;
		} finally {
			delete this.downloads[file.id];
		}
	}

	/** Shares a file into one of my rooms. */
	share(file: FileView, roomId: number): Promise<void> {
		return this.#act(() => postFileShare(file.id, { roomId }));
	}

	/** Makes a file public (every signed-in user) or private. */
	setPublic(file: FileView, isPublic: boolean): Promise<void> {
		return this.#act(() => postFileVisibility(file.id, { public: isPublic }));
	}

	/** Deletes one of my files. */
	async remove(file: FileView): Promise<void> {
		try {
			await deleteFile(file.id);
			this.items = this.items.filter((f) => f.id !== file.id);
		} catch (error) {
			this.error = (error as Error).message;
		}
	}

	async #act(run: () => Promise<FileView>): Promise<void> {
		try {
			const updated = await run();
			this.#upsert(updated, false);
		} catch (error) {
			this.error = (error as Error).message;
		}
	}

	#find(id: string): FileView | undefined {
		return this.items.find((f) => f.id === id);
	}

	#upsert(file: FileView, prepend: boolean): void {
		if (this.#find(file.id)) this.items = this.items.map((f) => (f.id === file.id ? file : f));
		else if (prepend) this.items = [file, ...this.items];
	}
}
