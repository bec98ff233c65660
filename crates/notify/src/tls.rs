//! TLS trust for every connection a publisher makes: the same as bulwark's registry client
//! (crates/image): the ring provider, the system's roots (else Mozilla's), plus extra CA
//! files; verification is never turned off.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use crate::deliver::NotifyError;

/// The one crypto provider (ring), as for the registry client.
pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The trust anchors: the system's, else Mozilla's, plus every certificate in `extra`.
pub(crate) fn trust_anchors(
    extra: &[PathBuf],
) -> Result<Vec<CertificateDer<'static>>, NotifyError> {
    // Only those rustls can use as anchors; unreadable files in the system store are skipped.
    let mut store = rustls::RootCertStore::empty();
    let mut roots: Vec<CertificateDer<'static>> = rustls_native_certs::load_native_certs()
        .certs
        .into_iter()
        .filter(|c| store.add(c.clone()).is_ok())
        .collect();
    if roots.is_empty() {
        roots.extend(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
    }
    for path in extra {
        add_ca_file(&mut roots, path)?;
    }
    Ok(roots)
}

fn add_ca_file(roots: &mut Vec<CertificateDer<'static>>, path: &Path) -> Result<(), NotifyError> {
    let bad = |message: String| NotifyError::CaFile {
        path: path.to_path_buf(),
        message,
    };
    let bytes = std::fs::read(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let mut check = rustls::RootCertStore::empty();
    let before = roots.len();
    for cert in CertificateDer::pem_slice_iter(&bytes) {
        let cert = cert.map_err(|e| bad(format!("not valid PEM: {e}")))?;
        check.add(cert.clone()).map_err(|e| {
            bad(format!(
                "holds a certificate that cannot be a trust anchor: {e}"
            ))
        })?;
        roots.push(cert);
    }
    if roots.len() == before {
        return Err(bad(
            "holds no PEM certificate (-----BEGIN CERTIFICATE-----)".to_string(),
        ));
    }
    Ok(())
}

/// ureq's TLS settings trusting `roots`.
pub(crate) fn ureq_tls(roots: &[CertificateDer<'static>]) -> ureq::tls::TlsConfig {
    ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(provider())
        .root_certs(ureq::tls::RootCerts::Specific(Arc::new(
            roots
                .iter()
                .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
                .collect(),
        )))
        .build()
}
