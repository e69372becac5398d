// The chat service: rooms (list, create, join, leave, close, invite, members, read positions),
// messages (send once per clientId, history pages), presence and typing over Socket.IO.
export { connect, type AppSocket } from './socket';
export { postFileShared } from './file-shared';
export { ChatError } from './errors';
export { roomChannel, userChannel } from './channels';
export * as rooms from './rooms';
export * as messages from './messages';
export { share as sharePresence, unshare as unsharePresence } from './presence';
