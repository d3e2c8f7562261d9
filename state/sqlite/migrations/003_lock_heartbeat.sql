-- Who holds the lock, told apart from a later process given the same pid
-- (a restarted container is often pid 1 again) and from a process of
-- another pid namespace under the same host name (containers), and
-- whether it still runs at all when its processes cannot be seen from
-- here (another host: a rescheduled pod has a new name).
ALTER TABLE lock ADD COLUMN pid_start INTEGER NOT NULL DEFAULT 0; -- the holder's start, in clock ticks since boot; 0 unknown
ALTER TABLE lock ADD COLUMN pid_ns TEXT NOT NULL DEFAULT '';     -- the holder's pid namespace, e.g. pid:[4026531836]; '' unknown
ALTER TABLE lock ADD COLUMN heartbeat INTEGER NOT NULL DEFAULT 0; -- unix seconds, renewed while the holder runs; 0 never
