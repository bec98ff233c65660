-- bulwark server schema, version 1. Timestamps are unix milliseconds (BIGINT), flags are
-- BIGINT 0/1 and JSON documents are TEXT, so the SQLite twin of this file is the same schema.
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE teams (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    scopes TEXT NOT NULL,
    team_id BIGINT REFERENCES teams(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    disabled_at BIGINT
);

CREATE TABLE tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    team_id BIGINT REFERENCES teams(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);

CREATE TABLE assets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    team_id BIGINT REFERENCES teams(id) ON DELETE SET NULL,
    owner TEXT,
    labels TEXT NOT NULL,
    latest_version_id BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX assets_team ON assets (team_id);

CREATE TABLE versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL UNIQUE,
    asset_id BIGINT NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    version_key TEXT NOT NULL,
    label TEXT,
    source_kind TEXT NOT NULL,
    os TEXT,
    ci TEXT,
    content_key TEXT NOT NULL,
    component_count BIGINT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    UNIQUE (asset_id, version_key)
);

CREATE TABLE upload_keys (
    key TEXT PRIMARY KEY,
    version_id BIGINT NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);

CREATE TABLE components (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    version_id BIGINT NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
    ordinal BIGINT NOT NULL,
    ecosystem TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    purl TEXT NOT NULL,
    source_name TEXT,
    layer_index BIGINT NOT NULL,
    evidence TEXT NOT NULL,
    package TEXT NOT NULL,
    UNIQUE (version_id, ordinal)
);
CREATE INDEX components_purl ON components (purl);

-- The reverse index: advisory (ecosystem, name) → stored components. `prefix` = 1 when the
-- stored ecosystem is a prefix of the advisory ecosystems it stands for (Red Hat's streams).
CREATE TABLE component_keys (
    component_id BIGINT NOT NULL REFERENCES components(id) ON DELETE CASCADE,
    ecosystem TEXT NOT NULL,
    name TEXT NOT NULL,
    prefix BIGINT NOT NULL
);
CREATE INDEX component_keys_name ON component_keys (name, ecosystem);
CREATE INDEX component_keys_component ON component_keys (component_id);

CREATE TABLE findings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    version_id BIGINT NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
    asset_id BIGINT NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    component_id BIGINT REFERENCES components(id) ON DELETE SET NULL,
    vuln_id TEXT NOT NULL,
    aliases TEXT NOT NULL,
    purl TEXT NOT NULL,
    package_name TEXT NOT NULL,
    package_version TEXT NOT NULL,
    severity TEXT NOT NULL,
    severity_rank BIGINT NOT NULL,
    cvss_score REAL,
    epss REAL,
    kev BIGINT NOT NULL,
    fixable BIGINT NOT NULL,
    fixed_versions TEXT NOT NULL,
    finding TEXT NOT NULL,
    state TEXT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_changed BIGINT NOT NULL,
    resolved_at BIGINT,
    UNIQUE (version_id, vuln_id, purl)
);
CREATE INDEX findings_vuln ON findings (vuln_id);
CREATE INDEX findings_asset ON findings (asset_id, vuln_id, purl);
CREATE INDEX findings_component ON findings (component_id);

CREATE TABLE finding_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    finding_id BIGINT NOT NULL REFERENCES findings(id) ON DELETE CASCADE,
    version_id BIGINT NOT NULL,
    asset_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX finding_events_at ON finding_events (at);
CREATE INDEX finding_events_asset ON finding_events (asset_id, id);

CREATE TABLE triage (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    asset_id BIGINT NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    vuln_id TEXT NOT NULL,
    purl TEXT NOT NULL,
    state TEXT NOT NULL,
    justification TEXT,
    response TEXT,
    comment TEXT,
    suppressed BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (asset_id, vuln_id, purl)
);

CREATE TABLE triage_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    triage_id BIGINT NOT NULL REFERENCES triage(id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    justification TEXT,
    response TEXT,
    comment TEXT,
    suppressed BIGINT NOT NULL,
    actor TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX triage_history_triage ON triage_history (triage_id, id);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    priority BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    max_attempts BIGINT NOT NULL,
    worker TEXT,
    lease_until BIGINT,
    run_after BIGINT NOT NULL,
    result TEXT,
    error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX jobs_claim ON jobs (state, priority, id);

CREATE TABLE notification_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    team_id BIGINT REFERENCES teams(id) ON DELETE CASCADE,
    config TEXT NOT NULL,
    enabled BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    rule_id BIGINT NOT NULL REFERENCES notification_rules(id) ON DELETE CASCADE,
    event_id BIGINT,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    last_status BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE UNIQUE INDEX deliveries_rule_event ON deliveries (rule_id, event_id);

CREATE TABLE snapshots (
    asset_id BIGINT NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    critical BIGINT NOT NULL,
    high BIGINT NOT NULL,
    medium BIGINT NOT NULL,
    low BIGINT NOT NULL,
    unknown BIGINT NOT NULL,
    kev BIGINT NOT NULL,
    fixable BIGINT NOT NULL,
    mttr_ms BIGINT,
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (asset_id, day)
);
