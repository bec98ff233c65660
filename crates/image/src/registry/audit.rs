//! `registry audit`: how a registry is exposed, judged from the outside.
//!
//! Probes, in order: a TLS handshake with verification (certificate chain, validity, host
//! name) and which protocol version it settles on; the API over plain HTTP on the same
//! address; `/v2/` without credentials (no authentication at all, the API version header);
//! the catalog without credentials; and an anonymous pull of one repository's manifest.
//! Each weakness is a [`Misconfiguration`] with a stable `BW-REG-NNN` id and its CIS Docker
//! Benchmark and NIST SP 800-190 controls.
//!
//! rustls speaks only TLS 1.2 and 1.3, so a server that still accepts TLS 1.0/1.1 is not
//! detected here; a server that offers nothing newer than 1.2 is.

use std::io::Read;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use bulwark_types::{ComplianceRef, Framework, MisconfigLocation, Misconfiguration, Severity};

use super::client::{RegistryClient, RequestBody};
use super::{Method, RegistryError, RegistryOptions};

/// A check's fixed facts.
pub struct Check {
    pub id: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    pub remediation: &'static str,
    pub cis_docker: Option<&'static str>,
    pub nist: &'static str,
}

/// Every registry check, in id order (a test keeps ids unique).
pub const CHECKS: &[Check] = &[
    Check {
        id: "BW-REG-001",
        title: "Registry API reachable over plain HTTP",
        severity: Severity::High,
        remediation: "Serve the registry only over TLS (http.tls in the distribution config, or a TLS-terminating proxy) and close the plain-HTTP listener.",
        cis_docker: Some("2.5"),
        nist: "4.2.1",
    },
    Check {
        id: "BW-REG-002",
        title: "Registry TLS certificate does not verify",
        severity: Severity::High,
        remediation: "Use a certificate that is valid now, names this host, and chains to a CA the clients trust (or distribute the private CA to them).",
        cis_docker: Some("2.5"),
        nist: "4.2.1",
    },
    Check {
        id: "BW-REG-003",
        title: "Registry does not offer TLS 1.3",
        severity: Severity::Low,
        remediation: "Enable TLS 1.3 (and keep TLS 1.2 as the oldest allowed version).",
        cis_docker: None,
        nist: "4.2.1",
    },
    Check {
        id: "BW-REG-004",
        title: "Registry requires no authentication",
        severity: Severity::Critical,
        remediation: "Enable authentication (htpasswd, a token service or a proxy with auth) so that pulls and pushes need credentials.",
        cis_docker: None,
        nist: "4.2.3",
    },
    Check {
        id: "BW-REG-005",
        title: "Anonymous catalog listing allowed",
        severity: Severity::Medium,
        remediation: "Require authentication for /v2/_catalog (the registry:catalog:* scope) so repository names are not disclosed.",
        cis_docker: None,
        nist: "4.2.3",
    },
    Check {
        id: "BW-REG-006",
        title: "Anonymous image pull allowed",
        severity: Severity::High,
        remediation: "Require credentials for pulls unless the repository is meant to be public.",
        cis_docker: None,
        nist: "4.2.3",
    },
    Check {
        id: "BW-REG-007",
        title: "Basic authentication offered over plain HTTP",
        severity: Severity::Critical,
        remediation: "Never accept Basic credentials without TLS: serve the API only over HTTPS.",
        cis_docker: Some("2.5"),
        nist: "4.2.1",
    },
    Check {
        id: "BW-REG-008",
        title: "Registry API version header missing",
        severity: Severity::Low,
        remediation: "Answer /v2/ with `Docker-Distribution-API-Version: registry/2.0` (a proxy may be stripping it); clients use it to recognise the API.",
        cis_docker: None,
        nist: "4.2.1",
    },
];

fn check(id: &str) -> &'static Check {
    CHECKS
        .iter()
        .find(|c| c.id == id)
        .expect("a known check id")
}

fn finding(id: &str, message: String, path: &str) -> Misconfiguration {
    let c = check(id);
    let mut compliance = vec![ComplianceRef {
        framework: Framework::Nist800190,
        control: c.nist.to_string(),
    }];
    if let Some(cis) = c.cis_docker {
        compliance.push(ComplianceRef {
            framework: Framework::CisDocker,
            control: cis.to_string(),
        });
    }
    Misconfiguration {
        check_id: c.id.to_string(),
        title: c.title.to_string(),
        severity: c.severity,
        message,
        remediation: c.remediation.to_string(),
        references: vec![
            "https://csrc.nist.gov/pubs/sp/800/190/final".to_string(),
            "https://distribution.github.io/distribution/spec/api/".to_string(),
        ],
        compliance,
        location: MisconfigLocation {
            path: path.to_string(),
            line: None,
            column: None,
            end_line: None,
            resource: Some("registry".to_string()),
            layer: None,
        },
    }
}

/// The host and port a registry URL names (`https://h:5000/…`, `http://h`, `h:5000`).
pub fn parse_target(url: &str) -> Result<(String, u16), RegistryError> {
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (Some(s.to_ascii_lowercase()), r),
        None => (None, url),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let default_port = match scheme.as_deref() {
        Some("http") => 80,
        Some("https") | None => 443,
        Some(other) => {
            return Err(RegistryError::Config(format!(
                "{url}: scheme {other:?} is not http or https"
            )))
        }
    };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, tail) = v6
            .split_once(']')
            .ok_or_else(|| RegistryError::Config(format!("{url}: unterminated IPv6 address")))?;
        let port = match tail.strip_prefix(':') {
            Some(p) => p.parse().ok(),
            None => Some(default_port),
        };
        (format!("[{h}]"), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.parse().ok()),
            None => (authority.to_string(), Some(default_port)),
        }
    };
    match port {
        Some(p) if !host.is_empty() => Ok((host, p)),
        _ => Err(RegistryError::Config(format!(
            "{url} is not a registry address like https://registry.example:5000 or registry.example:5000"
        ))),
    }
}

/// What the TLS probe found.
#[derive(Debug)]
enum TlsProbe {
    /// Verified; the negotiated protocol version.
    Verified(String),
    /// TLS is spoken but the certificate does not verify.
    Untrusted(String),
    /// No TLS on this address (plain HTTP answered, or the connection failed).
    Absent(String),
}

fn handshake(
    host: &str,
    port: u16,
    config: Arc<rustls::ClientConfig>,
    timeout: Duration,
) -> Result<String, rustls::Error> {
    let io = |e: std::io::Error| rustls::Error::General(e.to_string());
    let addr = (host.trim_matches(['[', ']']), port)
        .to_socket_addrs()
        .map_err(io)?
        .next()
        .ok_or_else(|| rustls::Error::General(format!("{host} does not resolve")))?;
    let mut sock = TcpStream::connect_timeout(&addr, timeout).map_err(io)?;
    sock.set_read_timeout(Some(timeout)).map_err(io)?;
    sock.set_write_timeout(Some(timeout)).map_err(io)?;
    let name = rustls::pki_types::ServerName::try_from(host.trim_matches(['[', ']']).to_string())
        .map_err(|e| rustls::Error::General(e.to_string()))?;
    let mut conn = rustls::ClientConnection::new(config, name)?;
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).map_err(|e| {
            match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                Some(tls) => tls.clone(),
                None => io(e),
            }
        })?;
    }
    Ok(conn
        .protocol_version()
        .map(|v| format!("{v:?}"))
        .unwrap_or_default())
}

use super::client::provider;

fn probe_tls(host: &str, port: u16, options: &RegistryOptions) -> Result<TlsProbe, RegistryError> {
    let roots = super::root_store(&options.ca_certs)?;
    let verified = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| RegistryError::Config(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    match handshake(host, port, Arc::new(verified), options.read_timeout) {
        Ok(version) => Ok(TlsProbe::Verified(version)),
        Err(rustls::Error::InvalidCertificate(e)) => Ok(TlsProbe::Untrusted(format!("{e:?}"))),
        Err(
            e @ (rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. }),
        ) => Ok(TlsProbe::Absent(format!(
            "the server does not speak TLS ({e})"
        ))),
        Err(e) => Ok(TlsProbe::Absent(e.to_string())),
    }
}

fn offers_tls13(host: &str, port: u16, options: &RegistryOptions) -> bool {
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map(|b| {
            b.dangerous()
                .with_custom_certificate_verifier(Arc::new(super::client::NoVerify(provider())))
                .with_no_client_auth()
        });
    match config {
        Ok(c) => handshake(host, port, Arc::new(c), options.read_timeout).is_ok(),
        Err(_) => false,
    }
}

/// Audits the registry at `url`. Errors only when the registry cannot be reached at all.
pub fn audit(url: &str, options: &RegistryOptions) -> Result<Vec<Misconfiguration>, RegistryError> {
    let (host, port) = parse_target(url)?;
    let authority = if (port == 443 && !url.starts_with("http://"))
        || (port == 80 && url.starts_with("http://"))
    {
        host.clone()
    } else {
        format!("{host}:{port}")
    };
    let mut findings = Vec::new();

    let tls = probe_tls(&host, port, options)?;
    let https_base = format!("https://{authority}");
    match &tls {
        TlsProbe::Verified(version) => {
            if !version.contains("1_3") && !offers_tls13(&host, port, options) {
                findings.push(finding(
                    "BW-REG-003",
                    format!("{authority} negotiates {version} and refuses TLS 1.3"),
                    &https_base,
                ));
            }
        }
        TlsProbe::Untrusted(why) => findings.push(finding(
            "BW-REG-002",
            format!("the certificate of {authority} does not verify: {why}"),
            &https_base,
        )),
        TlsProbe::Absent(_) => {}
    }

    // Plain HTTP on the same address (and on port 80 when the URL named no port).
    let plain_agent = probe_agent(options.connect_timeout, options.read_timeout, None);
    let plain_url = format!("http://{authority}/v2/");
    let plain = match plain_agent.get(&plain_url).call() {
        Ok(r) => Some((
            r.status().as_u16(),
            r.headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            r.headers().contains_key("docker-distribution-api-version"),
        )),
        Err(_) => None,
    };
    let mut plain_reachable = false;
    if let Some((status, challenge, api_header)) = &plain {
        if *status == 200 || *status == 401 || *api_header {
            plain_reachable = true;
            findings.push(finding(
                "BW-REG-001",
                format!("{plain_url} answers {status} without TLS: images and credentials cross the network in clear"),
                &plain_url,
            ));
            if let Some(c) = challenge.as_deref().and_then(super::Challenge::parse) {
                if c.scheme == "basic" {
                    findings.push(finding(
                        "BW-REG-007",
                        format!("{plain_url} asks for Basic credentials over plain HTTP (WWW-Authenticate: Basic)"),
                        &plain_url,
                    ));
                }
            }
        }
    }
    if matches!(tls, TlsProbe::Absent(_)) && !plain_reachable {
        let why = match &tls {
            TlsProbe::Absent(w) => w.clone(),
            _ => String::new(),
        };
        return Err(RegistryError::Connect {
            url: url.to_string(),
            message: format!("neither TLS nor plain HTTP answered as a registry ({why})"),
        });
    }

    // The API, anonymously: what can anyone do?
    let probe_options = RegistryOptions {
        insecure: true,
        credentials: None,
        docker_config_dir: None,
        retries: 0,
        ..options.clone()
    };
    let client = RegistryClient::new(&authority, None, &probe_options)?;
    let base = match tls {
        TlsProbe::Absent(_) => format!("http://{authority}"),
        _ => https_base.clone(),
    };
    let v2 = format!("{base}/v2/");
    let get = |path: &str, scope: &str| {
        client.send(
            Method::Get,
            &format!("{base}{path}"),
            scope,
            &RequestBody::default(),
        )
    };
    let anonymous_root = match plain_agent_or_tls_get(&client, &v2) {
        Ok((status, api_header)) => {
            if !api_header {
                findings.push(finding(
                    "BW-REG-008",
                    format!(
                        "{v2} answers {status} without a Docker-Distribution-API-Version header"
                    ),
                    &v2,
                ));
            }
            status == 200
        }
        Err(_) => false,
    };
    if anonymous_root {
        findings.push(finding(
            "BW-REG-004",
            format!("{v2} answers 200 to a request without credentials"),
            &v2,
        ));
    }
    let mut repositories = Vec::new();
    let catalog_url = format!("{base}/v2/_catalog");
    if let Ok(resp) = get("/v2/_catalog?n=100", "registry:catalog:*") {
        let mut body = Vec::new();
        let _ = resp
            .into_body()
            .into_reader()
            .take(1 << 20)
            .read_to_end(&mut body);
        #[derive(serde::Deserialize)]
        struct Catalog {
            #[serde(default)]
            repositories: Vec<String>,
        }
        if let Ok(c) = serde_json::from_slice::<Catalog>(&body) {
            repositories = c.repositories;
            findings.push(finding(
                "BW-REG-005",
                format!(
                    "{catalog_url} lists {} repositor{} to anyone{}",
                    repositories.len(),
                    if repositories.len() == 1 { "y" } else { "ies" },
                    match repositories.first() {
                        Some(r) => format!(" (e.g. {r})"),
                        None => String::new(),
                    }
                ),
                &catalog_url,
            ));
        }
    }
    // An anonymous pull of the first repository's first tag.
    if let Some(repo) = repositories.first() {
        let scope = super::pull_scope(repo);
        if let Ok(resp) = get(&format!("/v2/{repo}/tags/list"), &scope) {
            let mut body = Vec::new();
            let _ = resp
                .into_body()
                .into_reader()
                .take(1 << 20)
                .read_to_end(&mut body);
            #[derive(serde::Deserialize)]
            struct Tags {
                #[serde(default)]
                tags: Option<Vec<String>>,
            }
            let tag = serde_json::from_slice::<Tags>(&body)
                .ok()
                .and_then(|t| t.tags)
                .and_then(|t| t.into_iter().next());
            if let Some(tag) = tag {
                let req = RequestBody {
                    headers: vec![("Accept", super::manifest_accept())],
                    body: None,
                };
                let path = format!("/v2/{repo}/manifests/{tag}");
                if client
                    .send(Method::Get, &format!("{base}{path}"), &scope, &req)
                    .is_ok()
                {
                    findings.push(finding(
                        "BW-REG-006",
                        format!("{repo}:{tag} can be pulled without credentials"),
                        &format!("{base}{path}"),
                    ));
                }
            }
        }
    }
    Ok(findings)
}

/// `/v2/` without following the auth flow: its status and whether the API header is there.
fn plain_agent_or_tls_get(
    client: &RegistryClient,
    url: &str,
) -> Result<(u16, bool), RegistryError> {
    let agent = probe_agent(
        Duration::from_secs(10),
        Duration::from_secs(10),
        Some(client.tls_config()),
    );
    match agent.get(url).call() {
        Ok(r) => Ok((
            r.status().as_u16(),
            r.headers().contains_key("docker-distribution-api-version"),
        )),
        Err(e) => Err(RegistryError::Connect {
            url: url.to_string(),
            message: e.to_string(),
        }),
    }
}

/// An agent for one probe: no redirects followed, every status an answer, no proxy.
fn probe_agent(
    connect: Duration,
    read: Duration,
    tls: Option<ureq::tls::TlsConfig>,
) -> ureq::Agent {
    let mut config = ureq::Agent::config_builder()
        .timeout_connect(Some(connect))
        .timeout_per_read(Some(read))
        .max_redirects(0)
        .max_redirects_will_error(false)
        .http_status_as_error(false)
        .proxy(None);
    if let Some(tls) = tls {
        config = config.tls_config(tls);
    }
    config.build().new_agent()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_ids_are_unique_and_ordered() {
        let ids: Vec<&str> = CHECKS.iter().map(|c| c.id).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(ids, sorted);
    }

    #[test]
    fn targets() {
        assert_eq!(
            parse_target("https://r.example").unwrap(),
            ("r.example".into(), 443)
        );
        assert_eq!(
            parse_target("http://r.example/v2/").unwrap(),
            ("r.example".into(), 80)
        );
        assert_eq!(
            parse_target("127.0.0.1:5000").unwrap(),
            ("127.0.0.1".into(), 5000)
        );
        assert_eq!(parse_target("[::1]:5000").unwrap(), ("[::1]".into(), 5000));
        assert!(parse_target("ftp://x").is_err());
        assert!(parse_target("x:notaport").is_err());
    }
}
