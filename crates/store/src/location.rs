//! Where the database lives: a SQLite file or a PostgreSQL URL.

use std::fmt;
use std::path::PathBuf;

use crate::{Result, StoreError};

/// A database the store can open, parsed from what the user wrote (`--database`).
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseLocation {
    /// A SQLite file (created when missing).
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://user:pass@host:port/db?sslmode=disable`).
    Postgres(String),
}

impl DatabaseLocation {
    /// `postgres://…` and `postgresql://…` are PostgreSQL; anything else is a SQLite path
    /// (`sqlite://path` and `sqlite:path` are accepted too).
    pub fn parse(text: &str) -> Result<DatabaseLocation> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(StoreError::BadLocation {
                location: text.to_string(),
                reason: "empty; give a SQLite file path or a postgres:// URL".into(),
            });
        }
        let lower = trimmed.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            trimmed
                .parse::<postgres::Config>()
                .map_err(|e| StoreError::BadLocation {
                    location: redact_url(trimmed),
                    reason: format!(
                        "{e}; expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
                    ),
                })?;
            return Ok(DatabaseLocation::Postgres(trimmed.to_string()));
        }
        if let Some((scheme, _)) = lower.split_once("://") {
            if scheme != "sqlite" {
                return Err(StoreError::BadLocation {
                    location: redact_url(trimmed),
                    reason: format!(
                        "unknown scheme {scheme:?}; use postgres://… or a SQLite file path"
                    ),
                });
            }
        }
        let path = trimmed
            .strip_prefix("sqlite://")
            .or_else(|| trimmed.strip_prefix("sqlite:"))
            .unwrap_or(trimmed);
        Ok(DatabaseLocation::Sqlite(PathBuf::from(path)))
    }

    /// The location without any password, for messages and logs.
    pub fn display_target(&self) -> String {
        match self {
            DatabaseLocation::Sqlite(p) => p.display().to_string(),
            DatabaseLocation::Postgres(url) => postgres_target(url),
        }
    }
}

impl fmt::Debug for DatabaseLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseLocation::Sqlite(p) => f.debug_tuple("Sqlite").field(p).finish(),
            DatabaseLocation::Postgres(url) => {
                f.debug_tuple("Postgres").field(&redact_url(url)).finish()
            }
        }
    }
}

impl fmt::Display for DatabaseLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseLocation::Sqlite(p) => write!(f, "{}", p.display()),
            DatabaseLocation::Postgres(url) => f.write_str(&redact_url(url)),
        }
    }
}

/// `host:port/db` of a PostgreSQL URL: what messages name.
pub(crate) fn postgres_target(url: &str) -> String {
    match url.parse::<postgres::Config>() {
        Ok(cfg) => {
            let host = cfg
                .get_hosts()
                .first()
                .map(|h| match h {
                    postgres::config::Host::Tcp(h) => h.clone(),
                    postgres::config::Host::Unix(p) => p.display().to_string(),
                })
                .unwrap_or_else(|| "localhost".into());
            let port = cfg.get_ports().first().copied().unwrap_or(5432);
            format!("{host}:{port}/{}", cfg.get_dbname().unwrap_or(""))
        }
        Err(_) => redact_url(url),
    }
}

/// The URL with its password replaced by `***`.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            let masked = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                user.to_string()
            };
            let tail = redact_query_password(tail);
            format!("{scheme}://{masked}@{host}{tail}")
        }
        None => format!("{scheme}://{authority}{}", redact_query_password(tail)),
    }
}

fn redact_query_password(tail: &str) -> String {
    let Some((path, query)) = tail.split_once('?') else {
        return tail.to_string();
    };
    let query: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
            _ => kv.to_string(),
        })
        .collect();
    format!("{path}?{}", query.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_kinds_and_hides_passwords() {
        assert_eq!(
            DatabaseLocation::parse("/tmp/x.sqlite").unwrap(),
            DatabaseLocation::Sqlite("/tmp/x.sqlite".into())
        );
        assert_eq!(
            DatabaseLocation::parse("sqlite:///tmp/x.sqlite").unwrap(),
            DatabaseLocation::Sqlite("/tmp/x.sqlite".into())
        );
        let pg = DatabaseLocation::parse("postgresql://bw:s3cret@db:5433/bulwark").unwrap();
        assert!(matches!(pg, DatabaseLocation::Postgres(_)));
        assert_eq!(pg.display_target(), "db:5433/bulwark");
        assert!(!format!("{pg} {pg:?}").contains("s3cret"));
        assert!(DatabaseLocation::parse("mysql://x").is_err());
        assert!(DatabaseLocation::parse(" ").is_err());
        assert_eq!(
            redact_url("postgres://u@h/db?password=p&sslmode=disable"),
            "postgres://u@h/db?password=***&sslmode=disable"
        );
    }
}
