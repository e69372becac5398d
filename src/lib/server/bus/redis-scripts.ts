// Lua run atomically by Redis. Trimming goes through XDEL of the newest dropped entry, so the
// stream's `max-deleted-entry-id` (XINFO STREAM) always says exactly which positions can no longer
// be replayed: after >= max-deleted-entry-id means nothing after it is missing.

const TRIM = `
local function parse(id)
	local ms, seq = string.match(id, '^(%d+)-(%d+)$')
	return tonumber(ms), tonumber(seq)
end
local function newer(a, b)
	local am, as = parse(a)
	local bm, bs = parse(b)
	return am > bm or (am == bm and as > bs)
end
-- Drops entries beyond the newest \`keep\` (once more than \`slack\` over) and older than \`minid\`.
local function trim(key, keep, slack, minid)
	local bound = nil
	local len = redis.call('XLEN', key)
	if len > keep + slack then
		local over = redis.call('XRANGE', key, '-', '+', 'COUNT', len - keep)
		bound = over[#over][1]
	end
	if minid ~= '0' then
		local old = redis.call('XREVRANGE', key, '(' .. minid, '-', 'COUNT', 1)
		if old[1] and (bound == nil or newer(old[1][1], bound)) then bound = old[1][1] end
	end
	if bound then
		redis.call('XTRIM', key, 'MINID', bound)
		redis.call('XDEL', key, bound)
	end
end
`;

/** KEYS[1] stream; ARGV type, data (JSON), keep, slack. Appends, trims by count, returns the id. */
export const PUBLISH = `${TRIM}
local id = redis.call('XADD', KEYS[1], '*', 'type', ARGV[1], 'data', ARGV[2])
trim(KEYS[1], tonumber(ARGV[3]), tonumber(ARGV[4]), '0')
return id
`;

/** KEYS[1] stream; ARGV keep, oldest id to keep ("ms-0"). Trims by count and age. */
export const TRIM_STREAM = `${TRIM}
trim(KEYS[1], tonumber(ARGV[1]), 0, ARGV[2])
return 1
`;
