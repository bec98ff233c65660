//! The store's tiny driver layer: one [`Conn`] trait over a SQLite or PostgreSQL transaction,
//! so every query is written once, in PostgreSQL syntax with `$N` parameters. The SQLite side
//! rewrites `$N` to `?N`; values travel as [`Value`] and come back as [`Row`]s.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use postgres::types::{IsNull, ToSql, Type};
use rusqlite::OpenFlags;

use crate::{Result, StoreError};

/// A parameter or a column value, the same on both backends.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    I64(i64),
    F64(f64),
    Text(String),
    Bytes(Vec<u8>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::I64(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::I64(i64::from(v))
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::F64(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// An array of [`Value`]s from expressions that convert into one.
macro_rules! params {
    ($($v:expr),+ $(,)?) => { [$($crate::driver::Value::from($v)),+] };
}
pub(crate) use params;

/// A `Vec<Value>` to push more parameters onto.
macro_rules! vec_params {
    () => { Vec::<$crate::driver::Value>::new() };
    ($($v:expr),+ $(,)?) => { vec![$($crate::driver::Value::from($v)),+] };
}
pub(crate) use vec_params;

/// One result row.
#[derive(Debug, Clone)]
pub struct Row {
    values: Vec<Value>,
    backend: &'static str,
}

impl Row {
    fn bad(&self, i: usize, want: &str) -> StoreError {
        StoreError::Corrupt {
            backend: self.backend,
            target: String::new(),
            what: format!("column {i} is {:?}, expected {want}", self.values.get(i)),
        }
    }

    /// The row without its first `n` columns (a reader of a known column layout used after
    /// extra leading columns).
    pub(crate) fn skip(&self, n: usize) -> Row {
        Row {
            values: self.values.iter().skip(n).cloned().collect(),
            backend: self.backend,
        }
    }

    /// The raw value of column `i`.
    pub fn value(&self, i: usize) -> &Value {
        self.values.get(i).unwrap_or(&Value::Null)
    }

    /// An integer column that may be NULL.
    pub fn opt_i64(&self, i: usize) -> Result<Option<i64>> {
        match self.value(i) {
            Value::Null => Ok(None),
            Value::I64(v) => Ok(Some(*v)),
            _ => Err(self.bad(i, "an integer")),
        }
    }

    /// An integer column.
    pub fn i64(&self, i: usize) -> Result<i64> {
        self.opt_i64(i)?.ok_or_else(|| self.bad(i, "an integer"))
    }

    /// A 0/1 flag column.
    pub fn bool(&self, i: usize) -> Result<bool> {
        Ok(self.i64(i)? != 0)
    }

    /// A floating-point column that may be NULL (integers widen).
    pub fn opt_f64(&self, i: usize) -> Result<Option<f64>> {
        match self.value(i) {
            Value::Null => Ok(None),
            Value::F64(v) => Ok(Some(*v)),
            #[allow(clippy::cast_precision_loss)]
            Value::I64(v) => Ok(Some(*v as f64)),
            _ => Err(self.bad(i, "a number")),
        }
    }

    /// A text column that may be NULL.
    pub fn opt_text(&self, i: usize) -> Result<Option<String>> {
        match self.value(i) {
            Value::Null => Ok(None),
            Value::Text(v) => Ok(Some(v.clone())),
            _ => Err(self.bad(i, "text")),
        }
    }

    /// A text column.
    pub fn text(&self, i: usize) -> Result<String> {
        self.opt_text(i)?.ok_or_else(|| self.bad(i, "text"))
    }

    /// A JSON text column, parsed.
    pub fn json<T: serde::de::DeserializeOwned>(&self, i: usize) -> Result<T> {
        let text = self.text(i)?;
        serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
            backend: self.backend,
            target: String::new(),
            what: format!("column {i} is not the JSON expected: {e}"),
        })
    }
}

/// Which database a [`Conn`] talks to, for the few queries that differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `sqlite` or `postgres`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A transaction on either backend. Statements use PostgreSQL syntax and `$N` parameters.
pub trait Conn {
    /// The backend underneath.
    fn backend(&self) -> Backend;
    /// Runs a statement, returning the number of rows changed.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64>;
    /// Runs a query, returning every row.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>>;
    /// Runs several `;`-separated statements without parameters (migrations).
    fn batch(&mut self, sql: &str) -> Result<()>;

    /// The first row, if any.
    fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// Exactly one row (a `RETURNING` or an aggregate).
    fn query_one(&mut self, sql: &str, params: &[Value]) -> Result<Row> {
        self.query_opt(sql, params)?
            .ok_or_else(|| StoreError::Corrupt {
                backend: self.backend().name(),
                target: String::new(),
                what: format!("no row from {}", first_words(sql)),
            })
    }
}

fn first_words(sql: &str) -> String {
    sql.split_whitespace().take(4).collect::<Vec<_>>().join(" ")
}

/// `$N` → `?N` (SQLite's numbered parameters). Queries never hold `$` inside literals.
pub(crate) fn to_sqlite_sql(sql: &str) -> String {
    sql.replace('$', "?")
}

// ---------------------------------------------------------------- SQLite

pub(crate) struct SqliteTx<'a> {
    pub(crate) tx: rusqlite::Transaction<'a>,
    pub(crate) path: &'a str,
}

impl SqliteTx<'_> {
    fn err(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        move |source| StoreError::Sqlite {
            path: self.path.to_string(),
            source,
        }
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::I64(v) => ToSqlOutput::Borrowed(ValueRef::Integer(*v)),
            Value::F64(v) => ToSqlOutput::Borrowed(ValueRef::Real(*v)),
            Value::Text(v) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            Value::Bytes(v) => ToSqlOutput::Borrowed(ValueRef::Blob(v)),
        })
    }
}

fn sqlite_value(v: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::I64(i),
        ValueRef::Real(f) => Value::F64(f),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
    }
}

impl Conn for SqliteTx<'_> {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        let sql = to_sqlite_sql(sql);
        let mut stmt = self.tx.prepare_cached(&sql).map_err(self.err())?;
        let n = stmt
            .execute(rusqlite::params_from_iter(params))
            .map_err(self.err())?;
        Ok(n as u64)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        let sql = to_sqlite_sql(sql);
        let mut stmt = self.tx.prepare_cached(&sql).map_err(self.err())?;
        let width = stmt.column_count();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(params))
            .map_err(self.err())?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(self.err())? {
            let mut values = Vec::with_capacity(width);
            for i in 0..width {
                values.push(sqlite_value(row.get_ref(i).map_err(self.err())?));
            }
            out.push(Row {
                values,
                backend: "sqlite",
            });
        }
        Ok(out)
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        self.tx.execute_batch(sql).map_err(self.err())
    }
}

/// SQLite: one writer connection behind a mutex (SQLite allows one writer at a time anyway)
/// and a small pool of reader connections, all in WAL mode so readers never wait for it.
pub(crate) struct SqliteBackend {
    pub(crate) path: String,
    writer: Mutex<rusqlite::Connection>,
    readers: Mutex<Vec<rusqlite::Connection>>,
}

/// How long a SQLite statement waits for another process's lock before failing.
pub(crate) const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Idle reader connections kept open.
const SQLITE_IDLE_READERS: usize = 8;

impl SqliteBackend {
    pub(crate) fn open(path: &std::path::Path) -> Result<SqliteBackend> {
        let label = path.display().to_string();
        let writer = open_sqlite(path, &label)?;
        Ok(SqliteBackend {
            path: label,
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
        })
    }

    pub(crate) fn write<T>(&self, f: impl FnOnce(&mut dyn Conn) -> Result<T>) -> Result<T> {
        // A panic elsewhere while holding the lock leaves the connection usable: the
        // transaction it held was rolled back when its guard dropped.
        let mut conn = self
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let err = |source| StoreError::Sqlite {
            path: self.path.clone(),
            source,
        };
        // IMMEDIATE takes the write lock up front, so two processes never deadlock upgrading
        // read locks, and busy_timeout applies.
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(err)?;
        let mut tx = SqliteTx {
            tx,
            path: &self.path,
        };
        let out = f(&mut tx)?;
        tx.tx.commit().map_err(err)?;
        Ok(out)
    }

    pub(crate) fn read<T>(&self, f: impl FnOnce(&mut dyn Conn) -> Result<T>) -> Result<T> {
        let pooled = self
            .readers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        let mut conn = match pooled {
            Some(c) => c,
            None => open_sqlite(std::path::Path::new(&self.path), &self.path)?,
        };
        let out = {
            let err = |source| StoreError::Sqlite {
                path: self.path.clone(),
                source,
            };
            let tx = conn.transaction().map_err(err)?;
            let mut tx = SqliteTx {
                tx,
                path: &self.path,
            };
            let out = f(&mut tx);
            // Reads commit nothing; ending the transaction releases the WAL snapshot.
            tx.tx.rollback().map_err(err)?;
            out
        };
        let mut idle = self
            .readers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if idle.len() < SQLITE_IDLE_READERS {
            idle.push(conn);
        }
        out
    }
}

fn open_sqlite(path: &std::path::Path, label: &str) -> Result<rusqlite::Connection> {
    let err = |source| StoreError::SqliteOpen {
        path: label.to_string(),
        source,
    };
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(err)?;
    conn.busy_timeout(SQLITE_BUSY_TIMEOUT).map_err(err)?;
    // WAL: readers never block the writer; NORMAL sync is durable across process crashes
    // (a power loss may drop the last commits, never corrupt).
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(err)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(err)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(err)?;
    conn.set_prepared_statement_cache_capacity(128);
    Ok(conn)
}

// ---------------------------------------------------------------- PostgreSQL

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::I64(v) => match *ty {
                Type::INT2 => i16::try_from(*v)?.to_sql(ty, out),
                Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
                Type::BOOL => (*v != 0).to_sql(ty, out),
                #[allow(clippy::cast_precision_loss)]
                Type::FLOAT8 => (*v as f64).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR => v.to_string().to_sql(ty, out),
                _ => v.to_sql(ty, out),
            },
            Value::F64(v) => v.to_sql(ty, out),
            Value::Text(v) => v.to_sql(ty, out),
            Value::Bytes(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

pub(crate) struct PgTx<'a> {
    pub(crate) tx: postgres::Transaction<'a>,
    pub(crate) target: &'a str,
    statements: HashMap<String, postgres::Statement>,
}

impl PgTx<'_> {
    fn err(&self) -> impl Fn(postgres::Error) -> StoreError + '_ {
        move |source| StoreError::Postgres {
            target: self.target.to_string(),
            source,
        }
    }

    fn statement(&mut self, sql: &str) -> Result<postgres::Statement> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.tx.prepare(sql).map_err(self.err())?;
        self.statements.insert(sql.to_string(), s.clone());
        Ok(s)
    }
}

fn pg_params(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

fn pg_row(row: &postgres::Row) -> std::result::Result<Row, postgres::Error> {
    let mut values = Vec::with_capacity(row.len());
    for (i, col) in row.columns().iter().enumerate() {
        let ty = col.type_();
        let v = if *ty == Type::INT8 {
            row.try_get::<_, Option<i64>>(i)?.map(Value::I64)
        } else if *ty == Type::INT4 {
            row.try_get::<_, Option<i32>>(i)?
                .map(|v| Value::I64(v.into()))
        } else if *ty == Type::INT2 {
            row.try_get::<_, Option<i16>>(i)?
                .map(|v| Value::I64(v.into()))
        } else if *ty == Type::BOOL {
            row.try_get::<_, Option<bool>>(i)?
                .map(|v| Value::I64(v.into()))
        } else if *ty == Type::FLOAT8 {
            row.try_get::<_, Option<f64>>(i)?.map(Value::F64)
        } else if *ty == Type::FLOAT4 {
            row.try_get::<_, Option<f32>>(i)?
                .map(|v| Value::F64(v.into()))
        } else if *ty == Type::BYTEA {
            row.try_get::<_, Option<Vec<u8>>>(i)?.map(Value::Bytes)
        } else {
            // TEXT, VARCHAR, NAME and the like; anything else fails here, loudly.
            row.try_get::<_, Option<String>>(i)?.map(Value::Text)
        };
        values.push(v.unwrap_or(Value::Null));
    }
    Ok(Row {
        values,
        backend: "postgres",
    })
}

impl Conn for PgTx<'_> {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        let stmt = self.statement(sql)?;
        self.tx
            .execute(&stmt, &pg_params(params))
            .map_err(self.err())
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        let stmt = self.statement(sql)?;
        let rows = self
            .tx
            .query(&stmt, &pg_params(params))
            .map_err(self.err())?;
        rows.iter()
            .map(pg_row)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(self.err())
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        self.tx.batch_execute(sql).map_err(self.err())
    }
}

/// How long a request waits for a pooled PostgreSQL connection.
pub(crate) const PG_POOL_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections in the PostgreSQL pool.
pub(crate) const PG_POOL_SIZE: u32 = 16;

type PgManager = r2d2_postgres::PostgresConnectionManager<postgres::NoTls>;

/// PostgreSQL through an r2d2 pool of synchronous clients. NoTls: the URL should point at a
/// loopback or otherwise trusted network (TLS to PostgreSQL is not supported yet).
pub(crate) struct PgBackend {
    pub(crate) target: String,
    pool: r2d2::Pool<PgManager>,
}

impl PgBackend {
    pub(crate) fn open(url: &str) -> Result<PgBackend> {
        let target = crate::location::postgres_target(url);
        let mut config: postgres::Config = url.parse().map_err(|e| StoreError::BadLocation {
            location: crate::location::redact_url(url),
            reason: format!("{e}"),
        })?;
        if config.get_ssl_mode() == postgres::config::SslMode::Require {
            return Err(StoreError::BadLocation {
                location: crate::location::redact_url(url),
                reason: "TLS to PostgreSQL (sslmode=require) is not supported yet; connect over \
                         loopback or a trusted network with sslmode=disable (or prefer)"
                    .into(),
            });
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        config.application_name("bulwark");
        // Connect once directly: r2d2 would only say "timed out", this names the cause.
        config
            .connect(postgres::NoTls)
            .map_err(|source| StoreError::PostgresConnect {
                target: target.clone(),
                source,
            })?;
        let manager = PgManager::new(config, postgres::NoTls);
        let pool = r2d2::Pool::builder()
            .max_size(PG_POOL_SIZE)
            .min_idle(Some(1))
            .connection_timeout(PG_POOL_TIMEOUT)
            // `has_broken` (a closed socket) catches dead connections; a check query per
            // checkout would cost a round trip on every request.
            .test_on_check_out(false)
            .error_handler(Box::new(r2d2::NopErrorHandler))
            .build_unchecked(manager);
        Ok(PgBackend { target, pool })
    }

    fn client(&self) -> Result<r2d2::PooledConnection<PgManager>> {
        self.pool.get().map_err(|e| StoreError::PostgresPool {
            target: self.target.clone(),
            detail: e.to_string(),
        })
    }

    pub(crate) fn write<T>(&self, f: impl FnOnce(&mut dyn Conn) -> Result<T>) -> Result<T> {
        self.transaction(false, f)
    }

    pub(crate) fn read<T>(&self, f: impl FnOnce(&mut dyn Conn) -> Result<T>) -> Result<T> {
        self.transaction(true, f)
    }

    /// Runs `f` in a transaction. A pooled connection that the server dropped (a PostgreSQL
    /// restart, an administrator's `pg_terminate_backend`) fails at `BEGIN`, before anything
    /// was done: that connection is discarded and the next one tried, so one restart costs
    /// no request. Failures after `BEGIN` are returned, never retried.
    fn transaction<T>(
        &self,
        read_only: bool,
        f: impl FnOnce(&mut dyn Conn) -> Result<T>,
    ) -> Result<T> {
        let err = |source| StoreError::Postgres {
            target: self.target.clone(),
            source,
        };
        let mut f = Some(f);
        let mut retries = 0;
        loop {
            let mut client = self.client()?;
            let begun = if read_only {
                client
                    .build_transaction()
                    .read_only(true)
                    .isolation_level(postgres::IsolationLevel::RepeatableRead)
                    .start()
            } else {
                client.transaction()
            };
            let tx = match begun {
                Ok(tx) => tx,
                Err(e) if retries < PG_POOL_SIZE && connection_lost(&e) => {
                    retries += 1;
                    continue;
                }
                Err(e) => return Err(err(e)),
            };
            let mut tx = PgTx {
                tx,
                target: &self.target,
                statements: HashMap::new(),
            };
            // Taken once: every path from here returns.
            let f = f.take().ok_or_else(|| {
                StoreError::Invalid("internal: a transaction body ran twice".into())
            })?;
            let out = f(&mut tx)?;
            tx.tx.commit().map_err(err)?;
            return Ok(out);
        }
    }
}

/// The connection is gone (closed socket, server shutting down or terminated the backend).
fn connection_lost(e: &postgres::Error) -> bool {
    e.is_closed()
        || e.code().is_some_and(|c| {
            let code = c.code();
            code.starts_with("57P") || code.starts_with("08")
        })
        || std::error::Error::source(e)
            .is_some_and(|s| s.downcast_ref::<std::io::Error>().is_some())
}

/// Either backend.
pub(crate) enum Engine {
    Sqlite(Box<SqliteBackend>),
    Postgres(PgBackend),
}

impl Engine {
    pub(crate) fn backend(&self) -> Backend {
        match self {
            Engine::Sqlite(_) => Backend::Sqlite,
            Engine::Postgres(_) => Backend::Postgres,
        }
    }

    pub(crate) fn target(&self) -> &str {
        match self {
            Engine::Sqlite(b) => &b.path,
            Engine::Postgres(b) => &b.target,
        }
    }

    pub(crate) fn write<T>(&self, f: impl FnOnce(&mut dyn Conn) -> Result<T>) -> Result<T> {
        match self {
            Engine::Sqlite(b) => b.write(f),
            Engine::Postgres(b) => b.write(f),
        }
        .map_err(|e| self.fill_target(e))
    }

    pub(crate) fn read<T>(&self, f: impl FnOnce(&mut dyn Conn) -> Result<T>) -> Result<T> {
        match self {
            Engine::Sqlite(b) => b.read(f),
            Engine::Postgres(b) => b.read(f),
        }
        .map_err(|e| self.fill_target(e))
    }

    fn fill_target(&self, e: StoreError) -> StoreError {
        match e {
            StoreError::Corrupt {
                backend,
                target,
                what,
            } if target.is_empty() => StoreError::Corrupt {
                backend,
                target: self.target().to_string(),
                what,
            },
            e => e,
        }
    }
}

/// Shared handle type.
pub(crate) type SharedEngine = Arc<Engine>;
