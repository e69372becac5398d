import { deleteUpload } from '$lib/api/uploads.api';
import { uploadFile, type UploadProgress } from '$lib/stream/client';

const STORAGE_KEY = 'runnel.uploads';

/** One file on its way up. */
export class UploadItem {
	status = $state<'hashing' | 'uploading' | 'paused' | 'done' | 'failed' | 'cancelled'>('hashing');
	done = $state(0);
	error = $state<string | null>(null);
	/** Bytes per second, smoothed. */
	speed = $state(0);
	uploadId: string | null = null;
	controller: AbortController | null = null;
	#last: { time: number; done: number } | null = null;

	constructor(
		readonly key: number,
		readonly file: File
	) {}

	/** Seconds left at the current speed, or null while unknown. */
	get eta(): number | null {
		return this.status === 'uploading' && this.speed > 0 ? (this.file.size - this.done) / this.speed : null;
	}

	progress(p: UploadProgress): void {
		this.status = p.phase;
		this.done = p.done;
		const now = performance.now();
		if (p.phase === 'uploading' && this.#last && now > this.#last.time) {
			const instant = ((p.done - this.#last.done) * 1000) / (now - this.#last.time);
			this.speed = this.speed ? this.speed * 0.7 + instant * 0.3 : instant;
		}
		this.#last = { time: now, done: p.done };
	}
}

interface Saved {
	uploadId: string;
	name: string;
	size: number;
	lastModified: number;
}

/** The upload queue: runs each file, pauses, resumes (also after a reload, once the file is picked again), cancels. */
export class UploadQueue {
	items = $state<UploadItem[]>([]);
	/** Unfinished uploads from an earlier visit, waiting for their file to be picked again. */
	saved = $state<Saved[]>([]);
	#key = 0;

	constructor() {
		if (typeof localStorage !== 'undefined') this.saved = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '[]');
	}

	/** Starts (or resumes, when it matches a saved one) each picked file. */
	add(files: FileList | File[]): void {
		for (const file of files) {
			const item = new UploadItem(++this.#key, file);
			const match = this.saved.find((s) => s.name === file.name && s.size === file.size && s.lastModified === file.lastModified);
			if (match) {
				item.uploadId = match.uploadId;
				this.#forget(match.uploadId);
			}
			this.items = [item, ...this.items];
			void this.#run(item);
		}
	}

	pause(item: UploadItem): void {
		item.controller?.abort();
		item.status = 'paused';
	}

	resume(item: UploadItem): void {
		void this.#run(item);
	}

	async cancel(item: UploadItem): Promise<void> {
		item.controller?.abort();
		item.status = 'cancelled';
		if (item.uploadId) {
			this.#forget(item.uploadId);
			await deleteUpload(item.uploadId).catch(() => {});
		}
	}

	/** Drops finished and cancelled rows. */
	clearFinished(): void {
		this.items = this.items.filter((i) => !['done', 'cancelled'].includes(i.status));
	}

	async #run(item: UploadItem): Promise<void> {
		const controller = (item.controller = new AbortController());
		item.error = null;
		try {
			await uploadFile(item.file, {
				uploadId: item.uploadId ?? undefined,
				signal: controller.signal,
				onCreated: (id) => {
					item.uploadId = id;
					this.#remember({ uploadId: id, name: item.file.name, size: item.file.size, lastModified: item.file.lastModified });
				},
				onProgress: (p) => item.progress(p)
			});
			item.status = 'done';
			item.done = item.file.size;
			if (item.uploadId) this.#forget(item.uploadId);
		} catch (error) {
			if (controller.signal.aborted) return;
			item.status = 'failed';
			item.error = (error as Error).message;
			if (/no such upload|not found/i.test(item.error)) item.uploadId = null;
		}
	}

	#remember(entry: Saved): void {
		this.#store([...this.saved.filter((s) => s.uploadId !== entry.uploadId), entry]);
	}

	#forget(uploadId: string): void {
		this.#store(this.saved.filter((s) => s.uploadId !== uploadId));
	}

	#store(list: Saved[]): void {
		this.saved = list;
		localStorage.setItem(STORAGE_KEY, JSON.stringify(list));
	}
}
