import type { SharedListener } from '../files';
import { system } from './messages';

/**
 * Posts "<owner> shared <file>" with the file's id into the room a file was shared into.
 * @example files.onShared(chat.postFileShared);
 */
export const postFileShared: SharedListener = async ({ file, room }) => {
	await system(room.id, file.owner, 'file', file.name, file.id);
};
