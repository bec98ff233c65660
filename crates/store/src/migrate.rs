//! Versioned migrations, embedded in the binary: `migrations/{sqlite,postgres}/NNNN_name.sql`.
//! Each is applied in its own transaction and recorded in `schema_migrations`; a database whose
//! schema is newer than this binary is refused.

use crate::driver::{params, Backend, Conn, Engine};
use crate::{now_ms, Result, StoreError};

/// One migration: its number, name and the SQL for each backend.
struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sqlite: include_str!("../migrations/sqlite/0001_initial.sql"),
        postgres: include_str!("../migrations/postgres/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "asset_counts",
        sqlite: include_str!("../migrations/sqlite/0002_asset_counts.sql"),
        postgres: include_str!("../migrations/postgres/0002_asset_counts.sql"),
    },
    Migration {
        version: 3,
        name: "dashboard",
        sqlite: include_str!("../migrations/sqlite/0003_dashboard.sql"),
        postgres: include_str!("../migrations/postgres/0003_dashboard.sql"),
    },
    Migration {
        version: 4,
        name: "compliance",
        sqlite: include_str!("../migrations/sqlite/0004_compliance.sql"),
        postgres: include_str!("../migrations/postgres/0004_compliance.sql"),
    },
    Migration {
        version: 5,
        name: "event_dispatch",
        sqlite: include_str!("../migrations/sqlite/0005_event_dispatch.sql"),
        postgres: include_str!("../migrations/postgres/0005_event_dispatch.sql"),
    },
];

/// The newest schema version this binary knows.
pub const SCHEMA_VERSION: i64 = 5;

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";

pub(crate) fn migrate(engine: &Engine) -> Result<Vec<i64>> {
    // Serialise concurrent openers (two server processes starting together) on PostgreSQL;
    // SQLite's IMMEDIATE transaction already does.
    engine.write(|c| c.batch(CREATE_TABLE))?;
    let mut applied = Vec::new();
    for m in MIGRATIONS {
        let done = engine.write(|c| {
            if c.backend() == Backend::Postgres {
                c.execute("SELECT pg_advisory_xact_lock(7305711840)", &[])?;
            }
            check_not_newer(c, engine)?;
            let present = c
                .query_opt(
                    "SELECT version FROM schema_migrations WHERE version = $1",
                    &params![m.version],
                )?
                .is_some();
            if present {
                return Ok(false);
            }
            let sql = match c.backend() {
                Backend::Sqlite => m.sqlite,
                Backend::Postgres => m.postgres,
            };
            c.batch(sql)?;
            c.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                &params![m.version, m.name, now_ms()],
            )?;
            Ok(true)
        })?;
        if done {
            applied.push(m.version);
        }
    }
    engine.read(|c| check_not_newer(c, engine))?;
    Ok(applied)
}

fn check_not_newer(c: &mut dyn Conn, engine: &Engine) -> Result<()> {
    let found = c
        .query_one(
            "SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM schema_migrations",
            &[],
        )?
        .i64(0)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            backend: engine.backend().name(),
            target: engine.target().to_string(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(())
}

/// The schema version the database is at.
pub(crate) fn current_version(c: &mut dyn Conn) -> Result<i64> {
    c.query_one(
        "SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM schema_migrations",
        &[],
    )?
    .i64(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_in_order_and_end_at_schema_version() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{}", m.name);
        }
        assert_eq!(MIGRATIONS.last().map(|m| m.version), Some(SCHEMA_VERSION));
    }
}
