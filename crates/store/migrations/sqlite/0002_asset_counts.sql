-- The portfolio's counts of the latest version's open, unsuppressed findings, kept on the
-- asset row (refreshed by every ingest, rematch and triage of the asset) so the portfolio
-- sorts and pages 10,000 assets without aggregating millions of findings per request.

ALTER TABLE assets ADD COLUMN open_critical BIGINT NOT NULL DEFAULT 0;
ALTER TABLE assets ADD COLUMN open_high BIGINT NOT NULL DEFAULT 0;
ALTER TABLE assets ADD COLUMN open_medium BIGINT NOT NULL DEFAULT 0;
ALTER TABLE assets ADD COLUMN open_low BIGINT NOT NULL DEFAULT 0;
ALTER TABLE assets ADD COLUMN open_unknown BIGINT NOT NULL DEFAULT 0;
ALTER TABLE assets ADD COLUMN open_kev BIGINT NOT NULL DEFAULT 0;
ALTER TABLE assets ADD COLUMN open_fixable BIGINT NOT NULL DEFAULT 0;
ALTER TABLE assets ADD COLUMN open_total BIGINT NOT NULL DEFAULT 0;

UPDATE assets SET
    open_critical = (SELECT COUNT(*) FROM findings f LEFT JOIN triage t ON t.asset_id = f.asset_id AND t.vuln_id = f.vuln_id AND t.purl = f.purl
        WHERE f.version_id = assets.latest_version_id AND f.state = 'open' AND COALESCE(t.suppressed, 0) = 0 AND f.severity_rank = 4),
    open_high = (SELECT COUNT(*) FROM findings f LEFT JOIN triage t ON t.asset_id = f.asset_id AND t.vuln_id = f.vuln_id AND t.purl = f.purl
        WHERE f.version_id = assets.latest_version_id AND f.state = 'open' AND COALESCE(t.suppressed, 0) = 0 AND f.severity_rank = 3),
    open_medium = (SELECT COUNT(*) FROM findings f LEFT JOIN triage t ON t.asset_id = f.asset_id AND t.vuln_id = f.vuln_id AND t.purl = f.purl
        WHERE f.version_id = assets.latest_version_id AND f.state = 'open' AND COALESCE(t.suppressed, 0) = 0 AND f.severity_rank = 2),
    open_low = (SELECT COUNT(*) FROM findings f LEFT JOIN triage t ON t.asset_id = f.asset_id AND t.vuln_id = f.vuln_id AND t.purl = f.purl
        WHERE f.version_id = assets.latest_version_id AND f.state = 'open' AND COALESCE(t.suppressed, 0) = 0 AND f.severity_rank = 1),
    open_unknown = (SELECT COUNT(*) FROM findings f LEFT JOIN triage t ON t.asset_id = f.asset_id AND t.vuln_id = f.vuln_id AND t.purl = f.purl
        WHERE f.version_id = assets.latest_version_id AND f.state = 'open' AND COALESCE(t.suppressed, 0) = 0 AND f.severity_rank NOT IN (1, 2, 3, 4)),
    open_kev = (SELECT COUNT(*) FROM findings f LEFT JOIN triage t ON t.asset_id = f.asset_id AND t.vuln_id = f.vuln_id AND t.purl = f.purl
        WHERE f.version_id = assets.latest_version_id AND f.state = 'open' AND COALESCE(t.suppressed, 0) = 0 AND f.kev = 1),
    open_fixable = (SELECT COUNT(*) FROM findings f LEFT JOIN triage t ON t.asset_id = f.asset_id AND t.vuln_id = f.vuln_id AND t.purl = f.purl
        WHERE f.version_id = assets.latest_version_id AND f.state = 'open' AND COALESCE(t.suppressed, 0) = 0 AND f.fixable = 1),
    open_total = (SELECT COUNT(*) FROM findings f LEFT JOIN triage t ON t.asset_id = f.asset_id AND t.vuln_id = f.vuln_id AND t.purl = f.purl
        WHERE f.version_id = assets.latest_version_id AND f.state = 'open' AND COALESCE(t.suppressed, 0) = 0 AND 1 = 1)
WHERE latest_version_id IS NOT NULL;

