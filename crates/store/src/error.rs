//! The store's one error type: each variant names the backend and says what to do.

/// What went wrong in the store. Messages name the database (never a password) and tell the
/// user what to check.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database location could not be understood.
    #[error("invalid database location {location:?}: {reason}")]
    BadLocation { location: String, reason: String },
    /// The SQLite file could not be opened or configured.
    #[error("cannot open the SQLite database {path}: {source}; check that its directory exists and is writable")]
    SqliteOpen {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    /// A statement failed on SQLite.
    #[error("SQLite database {path}: {source}")]
    Sqlite {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    /// No connection could be made to PostgreSQL.
    #[error(
        "cannot connect to PostgreSQL at {target}: {source}; is it running and is the URL right?"
    )]
    PostgresConnect {
        target: String,
        #[source]
        source: postgres::Error,
    },
    /// The PostgreSQL pool had no usable connection in time.
    #[error("PostgreSQL at {target}: no connection within the pool timeout ({detail}); is the server up and does its max_connections allow bulwark's pool?")]
    PostgresPool { target: String, detail: String },
    /// A statement failed on PostgreSQL.
    #[error("PostgreSQL at {target}: {source}")]
    Postgres {
        target: String,
        #[source]
        source: postgres::Error,
    },
    /// The database was written by a newer bulwark.
    #[error("the {backend} database {target} has schema version {found}, newer than the {supported} this bulwark knows; upgrade bulwark to open it")]
    SchemaTooNew {
        backend: &'static str,
        target: String,
        found: i64,
        supported: i64,
    },
    /// Stored data is not what this version of bulwark wrote.
    #[error("{backend} database {target}: unexpected stored data ({what}); was the database changed by hand?")]
    Corrupt {
        backend: &'static str,
        target: String,
        what: String,
    },
    /// The thing asked for does not exist (or the principal may not see it).
    #[error("{0} not found")]
    NotFound(String),
    /// The caller's input was refused (a duplicate name, an unknown scope, a bad state).
    #[error("{0}")]
    Invalid(String),
    /// The principal lacks a scope or belongs to another team.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Hashing a password failed (argon2).
    #[error("password hashing failed: {0}")]
    Password(String),
}

/// Shorthand for the store's results.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    /// Whether the error is the database refusing a write because of a uniqueness constraint
    /// (a duplicate name), on either backend.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Sqlite {
                source: rusqlite::Error::SqliteFailure(e, _),
                ..
            } => {
                e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            }
            StoreError::Postgres { source, .. } => {
                source.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION)
            }
            _ => false,
        }
    }

    /// Whether retrying later may succeed (the database is down, busy or restarting).
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::PostgresConnect { .. } | StoreError::PostgresPool { .. } => true,
            StoreError::Postgres { source, .. } => {
                source.is_closed()
                    || source.code().is_some_and(|c| {
                        c.code().starts_with("08")
                            || c.code().starts_with("57P")
                            || *c == postgres::error::SqlState::T_R_SERIALIZATION_FAILURE
                            || *c == postgres::error::SqlState::T_R_DEADLOCK_DETECTED
                    })
            }
            StoreError::Sqlite {
                source: rusqlite::Error::SqliteFailure(e, _),
                ..
            } => matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ),
            _ => false,
        }
    }
}
