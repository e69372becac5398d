import type { Migration } from 'kysely';
import type { Dialect } from '../dialect';
import { accounts } from './001-accounts';
import { bus } from './002-bus';
import { notifications } from './003-notifications';
import { files } from './004-files';
import { analytics } from './005-analytics';
import { chat } from './006-chat';
import { jobs } from './007-jobs';
import { jobInstances } from './008-job-instances';

/** Every migration in order; names sort by their number and are never renamed once shipped. */
export function migrations(dialect: Dialect): Record<string, Migration> {
	return {
		'001-accounts': accounts(dialect),
		'002-bus': bus(),
		'003-notifications': notifications(dialect),
		'004-files': files(),
		'005-analytics': analytics(dialect),
		'006-chat': chat(dialect),
		'007-jobs': jobs(dialect),
		'008-job-instances': jobInstances()
	};
}
