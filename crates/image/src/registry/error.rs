/// Everything that can go wrong talking to a registry. Messages name the host or URL (never
/// a credential or a presigned query) and say what to do.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{0}")]
    Config(String),
    #[error("TLS with {host} failed: {message}. If the registry uses a private CA, pass --ca-cert FILE (or set BULWARK_CA_CERT); --insecure skips verification")]
    Tls { host: String, message: String },
    #[error("{host} does not speak TLS (plain HTTP?); refusing plain HTTP, which exposes credentials and images in transit. Pass --insecure to allow it")]
    PlainHttp { host: String },
    #[error("cannot connect to {url}: {message}")]
    Connect { url: String, message: String },
    #[error("{url} timed out (no answer within the read timeout; see --registry-timeout)")]
    Timeout { url: String },
    #[error("{url} timed out: the whole request did not finish within {secs}s (the request deadline; see --registry-timeout); the registry is too slow or is stalling on purpose")]
    Deadline { url: String, secs: u64 },
    #[error(
        "{url} is sending too slowly: {detail}; gave up on it (a stalled or hostile registry)"
    )]
    TooSlow { url: String, detail: String },
    #[error("{host} requires authentication: pass --username with --password-stdin, set BULWARK_REGISTRY_USERNAME/BULWARK_REGISTRY_PASSWORD, or `docker login {host}`")]
    AuthRequired { host: String },
    #[error("{host} rejected the credentials: {detail}")]
    AuthRejected { host: String, detail: String },
    #[error("access denied to {url}: {detail}")]
    Denied { url: String, detail: String },
    #[error("{url} not found: {detail}")]
    NotFound { url: String, detail: String },
    #[error("{url} answered {status}: {detail}")]
    Status {
        url: String,
        status: u16,
        detail: String,
    },
    #[error("redirect refused: {0}")]
    Redirect(String),
    #[error("{0}")]
    Protocol(String),
}
