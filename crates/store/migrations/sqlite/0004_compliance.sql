-- The dashboard's compliance page and mean time to remediate (issue 14).
--
-- The misconfigurations an uploaded bulwark report carried, kept per version so the compliance
-- page can say which framework controls each asset's latest image fails. versions.misconfig_count
-- is NULL when the upload carried no misconfiguration scan (an SBOM): nothing to assess.
ALTER TABLE versions ADD COLUMN misconfig_count BIGINT;

CREATE TABLE version_misconfigs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    version_id BIGINT NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
    check_id TEXT NOT NULL,
    severity TEXT NOT NULL,
    title TEXT NOT NULL,
    message TEXT NOT NULL,
    place TEXT NOT NULL,
    -- JSON: [{"framework": "cis-docker", "control": "4.1"}, ...]
    compliance TEXT NOT NULL
);
CREATE INDEX version_misconfigs_version ON version_misconfigs (version_id);

-- One row per (version, framework, control) the version's misconfigurations fail, with how
-- many: the page counts failing assets per control from this index alone.
CREATE TABLE version_controls (
    version_id BIGINT NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
    framework TEXT NOT NULL,
    control TEXT NOT NULL,
    findings BIGINT NOT NULL,
    PRIMARY KEY (version_id, framework, control)
);
CREATE INDEX version_controls_framework ON version_controls (framework, control, version_id);
-- The per-control counts join those rows to the assets whose latest version they are: without
-- this index SQLite scans every asset per row (34 s at 10,000 assets; bench/dashboard.sh).
CREATE INDEX assets_latest_version ON assets (latest_version_id);

-- Mean time to remediate per day: resolved findings by when they were resolved, read from the
-- index alone.
CREATE INDEX findings_resolved ON findings (resolved_at, first_seen, asset_id) WHERE state = 'resolved';
