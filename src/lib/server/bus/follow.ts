import type { SseContext, SseMessage } from '$lib/stream/server';
import { runtime } from '../runtime';
import { instanceSecret } from '../secret';
import { StreamIds } from './stream-ids';

/** Events every followed stream may carry besides its own. */
export type ResetEvent = { reset: { reason: 'too-old' | 'unknown' } };

/**
 * Follows a bus topic as SSE messages. Checks the Last-Event-ID first (400 when malformed or from
 * another stream), then replays what came after it (or after the head, for a fresh client; the
 * prelude's last message carries that position) and continues live; a position that can't be
 * replayed gets one `reset` message and the stream ends. A slow reader is cut off to resume later.
 * @example sse(request, (ctx) => follow(`user:${id}`, ctx));
 */
export async function follow<E extends ResetEvent>(
	topic: string,
	ctx: SseContext,
	options: { types?: ReadonlySet<string>; prelude?: () => Promise<SseMessage<E>[]> } = {}
): Promise<AsyncIterable<SseMessage<E>>> {
	const { bus, store } = runtime();
	const ids = new StreamIds(await instanceSecret(store.db));
	// A fresh client starts at the topic's head, and its first message carries that id: a client
	// that never saw an event still resumes without a gap.
	const after = await resumeAfter(topic, ctx.lastEventId);
	const subscription = bus.subscribe(topic, { after, signal: ctx.signal });
	const prelude = (options.prelude ? await options.prelude() : []).map((message, i, all) =>
		i === all.length - 1 ? { ...message, id: ids.encode(topic, after) } : message
	);

	return (async function* () {
		yield* prelude;
		try {
			for await (const event of subscription) {
				if (options.types && !options.types.has(event.type)) continue;
				yield { id: ids.encode(topic, event.id), event: event.type, data: event.data } as SseMessage<E>;
			}
		} catch (error) {
			// By name: the bus may come from the other bundle's copy of its module (see runtime.ts).
			const name = (error as Error)?.name;
			if (name === 'ReplayError') {
				const reason = (error as { reason: 'too-old' | 'unknown' }).reason;
				yield { event: 'reset', data: { reason } } as SseMessage<E>;
				return;
			}
			if (name === 'OverflowError') return;
			throw error;
		}
	})();
}

/**
 * The bus id a stream of `topic` goes on after: the client's Last-Event-ID (a 400 HttpError when
 * malformed or from another stream), or the topic's head for a fresh client.
 * @example const caughtUp = (await resumeAfter(topic, ctx.lastEventId)) === (await bus.head(topic));
 */
export async function resumeAfter(topic: string, lastEventId: string | null): Promise<string> {
	const { bus, store } = runtime();
	if (lastEventId === null) return bus.head(topic);
	const ids = new StreamIds(await instanceSecret(store.db));
	return ids.decode(topic, lastEventId, (id) => bus.isId(id));
}
