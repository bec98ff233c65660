//! Opening everything `bulwark server` needs, and running it until a signal.

use std::sync::Arc;
use std::time::Duration;

use bulwark_store::{DatabaseLocation, Principal, Scope, Store};

use crate::serve::{RunningServer, ServerError};
use crate::state::{AppState, ServerConfig, Wake};

/// What the command prints once the server listens.
#[derive(Debug, Clone)]
pub struct Started {
    pub url: String,
    pub data_dir: std::path::PathBuf,
    /// `sqlite /path` or `postgres host:port/db` (never a password).
    pub database: String,
    /// The first admin token, when this start made one (shown once).
    pub admin_token: Option<String>,
    /// Said when the advisory store is still missing.
    pub advisories_note: Option<String>,
}

/// Opens the database (migrating it), reads the config file's rules, and makes sure an admin
/// token exists: `config.admin_token` (BULWARK_ADMIN_TOKEN) when given, else a new one when
/// the database has none — returned so it can be shown once.
pub fn open_state(config: ServerConfig) -> Result<(AppState, Option<String>), ServerError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| ServerError::DataDir {
        path: config.data_dir.display().to_string(),
        source,
    })?;
    let location = DatabaseLocation::parse(&config.database_location())
        .map_err(|e| ServerError::Store(e.to_string()))?;
    let store = Store::open(&location).map_err(|e| ServerError::Store(e.to_string()))?;
    let file_rules = match &config.config_file {
        Some(path) => crate::notifications::rules_from_file(path).map_err(ServerError::Store)?,
        None => Vec::new(),
    };
    let admin_token = match &config.admin_token {
        Some(token) => {
            store
                .ensure_admin_token(token)
                .map_err(|e| ServerError::Store(e.to_string()))?;
            None
        }
        None if !store
            .has_admin_token()
            .map_err(|e| ServerError::Store(e.to_string()))? =>
        {
            let (_, token) = store
                .create_token(
                    &Principal::system("setup"),
                    "first admin",
                    &[Scope::Admin],
                    None,
                )
                .map_err(|e| ServerError::Store(e.to_string()))?;
            Some(token)
        }
        None => None,
    };
    if let Some(password) = &config.admin_password {
        store
            .ensure_admin_user(password)
            .map_err(|e| ServerError::Store(e.to_string()))?;
    }
    let state = AppState {
        config: Arc::new(config),
        store,
        metrics: Arc::default(),
        wake: Arc::new(Wake::default()),
        file_rules: Arc::new(file_rules),
        advisory_lock: Arc::default(),
        job_secrets: Arc::default(),
    };
    crate::notifications::sync_file_rules(&state)
        .map_err(|e| ServerError::Store(format!("notification rules of the config file: {e}")))?;
    Ok((state, admin_token))
}

/// Starts the HTTP server and every background task (rematch poller, delivery worker, job
/// workers, snapshots).
pub async fn start_all(state: AppState) -> Result<RunningServer, ServerError> {
    let mut background = vec![
        crate::rematch::spawn_poller(state.clone()),
        crate::notifications::spawn_worker(state.clone()),
        crate::jobs::spawn_snapshots(state.clone()),
        crate::jobs::spawn_queue_gauge(state.clone()),
    ];
    background.extend(crate::advisory_update::spawn_updater(state.clone()));
    background.extend(crate::jobs::spawn_workers(
        state.clone(),
        state.config.scan_workers,
    ));
    crate::serve::start(state, background).await
}

/// `bulwark server`: runs until SIGTERM or ctrl-c, then lets requests in flight finish.
pub fn run(config: ServerConfig, on_start: impl FnOnce(&Started)) -> Result<(), ServerError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| ServerError::Serve(e.to_string()))?;
    runtime.block_on(async move {
        let data_dir = config.data_dir.clone();
        let advisory_dir = config.advisory_dir();
        let (state, admin_token) =
            tokio::task::spawn_blocking(move || open_state(config))
                .await
                .map_err(|e| ServerError::Serve(e.to_string()))??;
        let database = format!("{} {}", state.store.backend_name(), state.store.target());
        let server = start_all(state).await?;
        let advisories_note = (!advisory_dir.join(bulwark_vulndb::DB_FILE).is_file()).then(|| {
            format!(
                "no advisory store yet: run `bulwark db update --db-dir {}` (or POST /api/v1/advisories/import); uploads are matched once it exists",
                advisory_dir.display()
            )
        });
        on_start(&Started {
            url: server.url(),
            data_dir,
            database,
            admin_token,
            advisories_note,
        });
        let handle = server.handle();
        tokio::spawn(async move {
            shutdown_signal().await;
            handle.graceful_shutdown(Some(Duration::from_secs(30)));
        });
        server.wait().await
    })
}

pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
