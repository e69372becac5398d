/** The signed-in user as a socket sees them. */
export interface SocketUser {
	id: number;
	name: string;
}

/** Events the server sends; the one source of truth for `Server<…>` and the client `Socket<…>`. */
export interface ServerToClientEvents {
	/** Sent once a connection is authenticated. */
	welcome: (info: { user: SocketUser; serverTime: number }) => void;
}

/** Events a client sends; each ends with an acknowledgement callback. */
export interface ClientToServerEvents {
	/** Round-trip check: the server acknowledges with its time. */
	ping: (ack: (reply: { serverTime: number }) => void) => void;
}

/** Per-socket data set by the handshake. */
export interface SocketData {
	user: SocketUser;
	sessionId: string;
}
