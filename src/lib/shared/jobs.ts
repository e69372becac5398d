// Jobs as both ends see them: the job, its export parameters, and the events of its status stream.
import type { Channel, Metric, Region } from './analytics';

/** Where a job is: waiting, running, or done one way or another. */
export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** The kinds of job there are. */
export type JobKind = 'export';

/** The file formats an export writes. */
export const EXPORT_FORMATS = ['csv', 'ndjson'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** What an export writes, as stored (times resolved to Unix ms; null: every value). */
export interface ExportParams {
	from: number;
	/** Exclusive. */
	to: number;
	metric: Metric[] | null;
	region: Region[] | null;
	channel: Channel[] | null;
	format: ExportFormat;
}

/** What a client sends to start an export: times as Unix ms or ISO dates, lists or single values. */
export type ExportRequest = {
	from?: number | string;
	to?: number | string;
	metric?: Metric | Metric[];
	region?: Region | Region[];
	channel?: Channel | Channel[];
	format?: ExportFormat;
};

/** One step of a running job: `index` of `length` units done, `fraction` the same from 0 to 1. */
export interface ProgressStep {
	name: string;
	index: number;
	length: number;
	unit: string;
	fraction: number;
}

/** How far a running job is: its steps, and the whole from 0 to 1 (steps weighed by the time they take). */
export interface JobProgress {
	steps: ProgressStep[];
	fraction: number;
}

/** What a finished job made: a file in Files. */
export interface JobOutput {
	fileId: string;
	name: string;
	size: number;
	type: string;
	/** Records it holds. */
	records: number;
}

/** A job as its owner sees it. */
export interface Job {
	id: number;
	kind: JobKind;
	params: ExportParams;
	state: JobState;
	/** Unix ms. */
	created: number;
	started: number | null;
	finished: number | null;
	/** Runs started, restarts included. */
	attempts: number;
	/** The last progress while running (or when it stopped). */
	progress: JobProgress | null;
	output: JobOutput | null;
	error: string | null;
}

/** A page of my jobs, newest first. */
export interface JobPage {
	items: Job[];
	/** Pass as `before` for the next (older) page; null at the end. */
	nextBefore: number | null;
}

/** A log line's level. */
export type LogLevel = 'info' | 'warn' | 'error';

/** One line of a job's log. */
export interface JobLogLine {
	/** 1, 2, 3… per job. */
	line: number;
	time: number;
	level: LogLevel;
	text: string;
}

/** The events of a job's status stream (event name -> data); a type, so it fits Record<string, unknown>. */
export type JobEvents = {
	/**
	 * Where a job stands in the queue: `rank` 1 is next (0 once it has started), of `queueSize`
	 * jobs waiting; `etaMs` until it starts, from recent durations of its kind (null: no estimate yet).
	 */
	estimation: { rank: number; queueSize: number; etaMs: number | null };
	/** How far a running job is, step by step. */
	progress: JobProgress;
	/** A line of its log. */
	log: JobLogLine;
	/** Sent now and then while the stream is open (never stored): the job's state at that moment. */
	heartbeat: { time: number; state: JobState };
	/** The last message: how it ended, with what it made or why it did not. */
	completed: { state: 'succeeded' | 'failed' | 'cancelled'; success: boolean; output: JobOutput | null; error: string | null };
	/** The position asked for is gone: reload the job and continue fresh. */
	reset: { reason: 'too-old' | 'unknown' };
};

/** True once a job can change no more. */
export const isFinished = (state: JobState): state is 'succeeded' | 'failed' | 'cancelled' =>
	state === 'succeeded' || state === 'failed' || state === 'cancelled';
