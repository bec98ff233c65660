-- Notifications as an outbox (issue 20: `kill -9` loses nothing). An event's deliveries are
-- enqueued after the ingest or rematch that recorded it commits; `dispatched_at` records that
-- they were, so a server killed in between dispatches the rest when it runs again. Events
-- already stored were dispatched by the server that stored them.
ALTER TABLE finding_events ADD COLUMN dispatched_at BIGINT;
UPDATE finding_events SET dispatched_at = at;
CREATE INDEX finding_events_undispatched ON finding_events (id) WHERE dispatched_at IS NULL;

-- "New this week" and "resolved this week" count one kind's events of a time range: this
-- index gives each kind its own range, so the count walks that kind's entries only (the
-- overview caps it; see `Store::event_kinds`).
CREATE INDEX finding_events_kind_at ON finding_events (kind, at, asset_id);
