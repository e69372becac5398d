import { deleteFile, downloadFileById, getFiles, openFilesEvents, postFileShare, postFileVisibility } from '$lib/api/files.api';
import { getRooms } from '$lib/api/rooms.api';
import type { EventStream } from '$lib/stream/client';
import { PagedList } from '$lib/state/paged-list.svelte';

export type FileView = Awaited<ReturnType<typeof getFiles>>['items'][number];
export type RoomOption = Awaited<ReturnType<typeof getRooms>>['items'][number];
type FileEvents = ReturnType<typeof openFilesEvents> extends EventStream<infer E> ? E : never;

/** A download in progress: bytes so far of the total. */
export interface DownloadState {
	received: number;
	total: number | null;
}

/** The files I may see, kept live by the files event stream; downloads and owner actions. */
export class FileList extends PagedList<FileView, string> {
	rooms = $state<RoomOption[]>([]);
	downloads = $state<Record<string, DownloadState>>({});

	#stream: EventStream<FileEvents> | null = null;
	protected readonly loadError = 'Could not load files.';

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
		stream.onOpen(() => this.streamStarted());
		void this.reload();
		void getRooms().then(({ items }) => (this.rooms = items), () => {});
	}

	stop(): void {
		this.#stream?.close();
	}

	protected fetchPage(before: string | undefined) {
		return getFiles(before === undefined ? {} : { before });
	}

	protected key(file: FileView): string {
		return file.id;
	}

	protected isNewer(file: FileView, top: FileView | undefined): boolean {
		return file.created > (top?.created ?? 0);
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
