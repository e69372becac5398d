// How a run's end is told: the error a user reads, the notification of a finished file.
import { formatBytes } from '$lib/format';
import type { Job, JobOutput } from '$lib/shared/jobs';
import { httpError } from '$lib/stream/server/errors';
import type { Logger } from '../log';

const number = new Intl.NumberFormat('en');

/** The reason a user reads for a failed run: an HttpError's message, a file system error's code, else a generic line (the error is logged). */
export function failureMessage(error: unknown, log: Logger): string {
	const known = httpError(error);
	if (known) return known.message;
	const code = (error as NodeJS.ErrnoException | null)?.code;
	log.error({ err: error }, 'job failed');
	if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return `The export file could not be written (${code}).`;
	return 'The job failed unexpectedly; the server log has the details.';
}

/** The notification that a job's file is ready, linking to the job on the jobs page. */
export function successNotice(job: Job, output: JobOutput): { title: string; body: string; link: string } {
	return {
		title: 'Export ready',
		body: `${output.name} (${formatBytes(output.size)}, ${number.format(output.records)} records) is ready to download.`,
		link: `/jobs#job-${job.id}`
	};
}
