-- The dashboard (issue 14): login sessions of local users, and the index behind the
-- overview's "fix first" list (open, fixable findings, KEV then EPSS), so that list walks an
-- index instead of sorting every open finding.
CREATE TABLE dashboard_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    principal TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX dashboard_sessions_expiry ON dashboard_sessions (expires_at);

CREATE INDEX findings_fix_first ON findings (kev DESC, epss DESC) WHERE state = 'open' AND fixable = 1;
-- The trend chart sums a day's snapshots, and "new this week vs resolved" counts events by
-- kind: both read these indexes alone, never the rows.
CREATE INDEX snapshots_day_counts ON snapshots (day, critical, high, medium, low, unknown, kev, fixable, asset_id);
CREATE INDEX finding_events_at_kind ON finding_events (at, kind, asset_id);
