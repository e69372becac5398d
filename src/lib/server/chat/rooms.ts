import { sql } from 'kysely';
import type { ChatUser, Member, RoomView } from '$lib/shared/chat';
import { findByName } from '../accounts';
import * as notifications from '../notifications';
import { runtime } from '../runtime';
import * as access from './access';
import { joinChannel, leaveChannel, roomChannel, sockets, userChannel } from './channels';
import { ChatError } from './errors';
import * as messages from './messages';
import { onlineAmong } from './presence';
import * as validate from './validate';
import { infoOf, listFor, unreadOf, viewFor } from './views';

/** Tells whoever can see a room that it changed: everyone for a public room, its members for a private one. */
async function announce(roomId: number): Promise<void> {
	const io = sockets();
	if (!io) return;
	const info = await infoOf(roomId);
	if (info.isPrivate) io.to(roomChannel(roomId)).emit('room:updated', info);
	else io.emit('room:updated', info);
}

function enter(user: ChatUser, roomId: number, view: RoomView): void {
	joinChannel(userChannel(user.id), roomChannel(roomId));
	sockets()?.to(userChannel(user.id)).emit('room:joined', view);
}

function roomIdOnly(input: unknown): number {
	return validate.roomId(validate.fields(input, ['roomId'], '{ roomId }').roomId);
}

/** The rooms the user can see, with member and unread counts. */
export async function list(user: ChatUser): Promise<{ rooms: RoomView[] }> {
	return { rooms: await listFor(user.id) };
}

/** Creates a room owned by the user, who becomes its first member. */
export async function create(user: ChatUser, input: unknown): Promise<{ room: RoomView }> {
	const raw = validate.fields(input, ['name', 'topic', 'isPrivate'], '{ name, topic?, isPrivate? }');
	const name = validate.roomName(raw.name);
	const topic = validate.topic(raw.topic);
	const isPrivate = validate.flag(raw.isPrivate, 'isPrivate');
	const { db } = runtime().store;
	const taken = () => new ChatError(`A room named "${name}" exists already: choose another name.`);
	if (await db.selectFrom('rooms').select('id').where(sql`lower(name)`, '=', name.toLowerCase()).executeTakeFirst()) throw taken();
	const now = Date.now();
	const roomId = await db
		.transaction()
		.execute(async (trx) => {
			const { id } = await trx
				.insertInto('rooms')
				.values({ name, topic, is_private: isPrivate ? 1 : 0, owner_id: user.id, created_at: now, closed_at: null })
				.returning('id')
				.executeTakeFirstOrThrow();
			await trx.insertInto('room_members').values({ room_id: id, user_id: user.id, joined_at: now }).execute();
			await trx.insertInto('chat_reads').values({ room_id: id, user_id: user.id, last_read: 0 }).execute();
			return id;
		})
		.catch((error) => Promise.reject(/unique/i.test(String(error)) ? taken() : error));
	const view = await viewFor(user.id, roomId);
	enter(user, roomId, view);
	await announce(roomId);
	return { room: view };
}

/** Joins a public room or one the user was invited to; the others see "… joined". */
export async function join(user: ChatUser, input: unknown): Promise<{ room: RoomView }> {
	const roomId = roomIdOnly(input);
	const { member } = await access.joinable(user.id, roomId);
	if (!member) {
		const last = await messages.lastId(roomId);
		const added = await runtime()
			.store.db.transaction()
			.execute(async (trx) => {
				const result = await trx
					.insertInto('room_members')
					.values({ room_id: roomId, user_id: user.id, joined_at: Date.now() })
					.onConflict((oc) => oc.columns(['room_id', 'user_id']).doNothing())
					.executeTakeFirst();
				await trx.deleteFrom('chat_invites').where('room_id', '=', roomId).where('user_id', '=', user.id).execute();
				await trx
					.insertInto('chat_reads')
					.values({ room_id: roomId, user_id: user.id, last_read: last })
					.onConflict((oc) => oc.columns(['room_id', 'user_id']).doUpdateSet({ last_read: last }))
					.execute();
				return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
			});
		if (added) {
			joinChannel(userChannel(user.id), roomChannel(roomId));
			await messages.system(roomId, user, 'join');
			await announce(roomId);
		}
	}
	const view = await viewFor(user.id, roomId);
	enter(user, roomId, view);
	return { room: view };
}

/** Leaves a room; the others see "… left". */
export async function leave(user: ChatUser, input: unknown): Promise<object> {
	const roomId = roomIdOnly(input);
	await access.member(user.id, roomId);
	const { db } = runtime().store;
	const removed = await db.deleteFrom('room_members').where('room_id', '=', roomId).where('user_id', '=', user.id).executeTakeFirst();
	// Out of the channel before anything else: being in it is what lets a socket post.
	if (Number(removed.numDeletedRows) > 0) leaveChannel(userChannel(user.id), roomChannel(roomId));
	await db.deleteFrom('chat_reads').where('room_id', '=', roomId).where('user_id', '=', user.id).execute();
	if (Number(removed.numDeletedRows) === 0) return {};
	await messages.system(roomId, user, 'leave');
	sockets()?.to(userChannel(user.id)).emit('room:left', { roomId });
	await announce(roomId);
	return {};
}

/** Closes a room the user owns: a last line, then everyone who could see it is told and it leaves every list. */
export async function close(user: ChatUser, input: unknown): Promise<object> {
	const roomId = roomIdOnly(input);
	const room = await access.member(user.id, roomId);
	if (room.ownerId !== user.id) throw new ChatError(`Only the owner of #${room.name} can close it.`);
	const { db } = runtime().store;
	const updated = await db.updateTable('rooms').set({ closed_at: Date.now() }).where('id', '=', roomId).where('closed_at', 'is', null).executeTakeFirst();
	if (Number(updated.numUpdatedRows) === 0) throw new ChatError('This room is closed.');
	await messages.system(roomId, user, 'closed');
	const invited = await db.deleteFrom('chat_invites').where('room_id', '=', roomId).returning('user_id').execute();
	const io = sockets();
	const event = { roomId, by: { id: user.id, name: user.name } };
	if (room.isPrivate) io?.to([roomChannel(roomId), ...invited.map((i) => userChannel(i.user_id))]).emit('room:closed', event);
	else io?.emit('room:closed', event);
	// Through the adapter, after the broadcast: the Redis adapter sends locally only once its publish is
	// back, so leaving this instance's sockets first would keep room:closed from them. Meanwhile the
	// store refuses posts to the closed room.
	io?.in(roomChannel(roomId)).socketsLeave(roomChannel(roomId));
	return {};
}

/** Invites someone by name into a room the user is in; they get the room in their list and a notification. */
export async function invite(user: ChatUser, input: unknown): Promise<{ user: ChatUser }> {
	const raw = validate.fields(input, ['roomId', 'name'], '{ roomId, name }');
	const roomId = validate.roomId(raw.roomId);
	const name = validate.userName(raw.name);
	const room = await access.member(user.id, roomId);
	const target = await findByName(name);
	if (!target) throw new ChatError(`No one is called "${name}".`);
	const invitee = { id: target.id, name: target.name };
	if ((await access.memberIds(roomId)).includes(target.id)) throw new ChatError(`${target.name} is in #${room.name} already.`);
	const inserted = await runtime()
		.store.db.insertInto('chat_invites')
		.values({ room_id: roomId, user_id: target.id, invited_by: user.id, created_at: Date.now() })
		.onConflict((oc) => oc.columns(['room_id', 'user_id']).doNothing())
		.executeTakeFirst();
	if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) {
		sockets()?.to(userChannel(target.id)).emit('room:invited', { room: await viewFor(target.id, roomId), by: { id: user.id, name: user.name } });
		await notifications.send(target.id, {
			type: 'invite',
			title: `${user.name} invited you to #${room.name}`,
			body: room.isPrivate ? 'A private room: join it from the Chat page.' : 'Join it from the Chat page.',
			link: `/chat?room=${roomId}`
		});
	}
	return { user: invitee };
}

/** The members of a room the user is in, by name, with who is online. */
export async function members(user: ChatUser, input: unknown): Promise<{ members: Member[] }> {
	const roomId = roomIdOnly(input);
	await access.member(user.id, roomId);
	const rows = await runtime()
		.store.db.selectFrom('room_members as m')
		.innerJoin('users as u', 'u.id', 'm.user_id')
		.select(['u.id', 'u.name'])
		.where('m.room_id', '=', roomId)
		.orderBy('u.name_key')
		.execute();
	const online = await onlineAmong(rows.map((r) => r.id));
	return { members: rows.map((r) => ({ id: r.id, name: r.name, online: online.has(r.id) })) };
}

/** Moves the user's read position in a room forward to a message id; their other tabs hear of it. */
export async function markRead(user: ChatUser, input: unknown): Promise<{ unread: number }> {
	const raw = validate.fields(input, ['roomId', 'id'], '{ roomId, id }');
	const roomId = validate.roomId(raw.roomId);
	const id = validate.messageId(raw.id, 'id');
	await access.member(user.id, roomId);
	const upTo = Math.min(id, await messages.lastId(roomId));
	await runtime()
		.store.db.insertInto('chat_reads')
		.values({ room_id: roomId, user_id: user.id, last_read: upTo })
		.onConflict((oc) => oc.columns(['room_id', 'user_id']).doUpdateSet({ last_read: upTo }).where('chat_reads.last_read', '<', upTo))
		.execute();
	sockets()?.to(userChannel(user.id)).emit('room:read', { roomId, id: upTo });
	return { unread: await unreadOf(user.id, roomId) };
}
