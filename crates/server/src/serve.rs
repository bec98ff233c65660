//! Binding, TLS and graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;

use axum_server::tls_rustls::RustlsConfig;
use axum_server::Handle;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::task::JoinHandle;

use crate::state::{AppState, TlsFiles};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {source}; is another server using the port? (choose another with --listen)")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(
        "cannot read the TLS {what} {path}: {detail}; give a PEM file with --tls-cert/--tls-key"
    )]
    Tls {
        what: &'static str,
        path: String,
        detail: String,
    },
    #[error("cannot create the data directory {path}: {source}; choose another with --data-dir")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Store(String),
    #[error("the server stopped: {0}")]
    Serve(String),
}

/// A running server: its address, and a handle that stops it.
pub struct RunningServer {
    pub addr: SocketAddr,
    /// `https` when TLS is on.
    pub scheme: &'static str,
    handle: Handle<SocketAddr>,
    task: JoinHandle<std::io::Result<()>>,
    background: Vec<JoinHandle<()>>,
    /// Held until everything else has let go, then dropped on a blocking thread: the
    /// PostgreSQL client blocks when its last connection closes, which must not happen on
    /// an async worker.
    store: Option<bulwark_store::Store>,
}

impl RunningServer {
    /// `http://127.0.0.1:8470`.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// Stops accepting, lets requests in flight finish (up to `grace`), stops the workers.
    pub async fn shutdown(self, grace: std::time::Duration) -> Result<(), ServerError> {
        self.handle.graceful_shutdown(Some(grace));
        self.wait().await
    }

    /// Waits until the server stops (it does when `shutdown` is called from elsewhere, or
    /// on an I/O error).
    pub async fn wait(mut self) -> Result<(), ServerError> {
        let result = match (&mut self.task).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(ServerError::Serve(e.to_string())),
            Err(e) => Err(ServerError::Serve(e.to_string())),
        };
        for task in &self.background {
            task.abort();
        }
        for task in std::mem::take(&mut self.background) {
            let _ = task.await;
        }
        if let Some(store) = self.store.take() {
            let _ = tokio::task::spawn_blocking(move || drop(store)).await;
        }
        result
    }

    /// A handle to stop the server from a signal handler.
    pub fn handle(&self) -> Handle<SocketAddr> {
        self.handle.clone()
    }
}

/// Serves `state` on its configured address with the background tasks given; returns once
/// the socket listens.
pub async fn start(
    state: AppState,
    background: Vec<JoinHandle<()>>,
) -> Result<RunningServer, ServerError> {
    let config = state.config.clone();
    let store = state.store.clone();
    let app = crate::app::router(state).into_make_service_with_connect_info::<SocketAddr>();
    let handle = Handle::new();
    let addr = config.listen;
    // Bind here so a busy port is a clear error now, not a log line later.
    let listener =
        std::net::TcpListener::bind(addr).map_err(|source| ServerError::Bind { addr, source })?;
    listener
        .set_nonblocking(true)
        .map_err(|source| ServerError::Bind { addr, source })?;
    let (task, scheme) = match &config.tls {
        Some(files) => {
            let tls = tls_config(files)?;
            let server = axum_server::from_tcp_rustls(listener, tls)
                .map_err(|source| ServerError::Bind { addr, source })?
                .handle(handle.clone());
            (tokio::spawn(server.serve(app)), "https")
        }
        None => {
            let server = axum_server::from_tcp(listener)
                .map_err(|source| ServerError::Bind { addr, source })?
                .handle(handle.clone());
            (tokio::spawn(server.serve(app)), "http")
        }
    };
    let addr = handle
        .listening()
        .await
        .ok_or_else(|| ServerError::Serve("the server stopped before it listened".to_string()))?;
    Ok(RunningServer {
        addr,
        scheme,
        handle,
        task,
        background,
        store: Some(store),
    })
}

pub(crate) fn tls_config(files: &TlsFiles) -> Result<RustlsConfig, ServerError> {
    let tls_err = |what, path: &std::path::Path| {
        let path = path.display().to_string();
        move |e: rustls_pki_types::pem::Error| ServerError::Tls {
            what,
            path,
            detail: e.to_string(),
        }
    };
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .map_err(tls_err("certificate", &files.cert))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(tls_err("certificate", &files.cert))?;
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(tls_err("key", &files.key))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|e| ServerError::Tls {
            what: "certificate and key",
            path: files.cert.display().to_string(),
            detail: e.to_string(),
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(RustlsConfig::from_config(Arc::new(config)))
}
