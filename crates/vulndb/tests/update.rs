mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;

use bulwark_vulndb::{update, Error, NoProgress, Store, UpdateOptions};
use common::*;

fn osv_zip(dir: &Path) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut zw = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        for p in names {
            zw.start_file(p.file_name().unwrap().to_string_lossy(), opts)
                .unwrap();
            zw.write_all(&std::fs::read(&p).unwrap()).unwrap();
        }
        zw.finish().unwrap();
    }
    buf.into_inner()
}

/// Serves `/PyPI/all.zip`, `/kev.json` and `/epss.csv.gz` with ETag `"v1"` (304 when asked
/// with it). `zip_override` replaces the zip body (and the ETag becomes `"v2"`).
fn serve(zip_override: Option<Vec<u8>>) -> (String, Arc<tiny_http::Server>) {
    let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
    let base = format!("http://{}", server.server_addr().to_ip().unwrap());
    let tag = if zip_override.is_some() {
        "\"v2\""
    } else {
        "\"v1\""
    };
    let zip = zip_override.unwrap_or_else(|| osv_zip(&data().join("osv/PyPI")));
    let kev =
        std::fs::read(data().join("kev/known_exploited_vulnerabilities.subset.json")).unwrap();
    let mut epss = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    epss.write_all(&std::fs::read(data().join("epss/epss.subset.csv")).unwrap())
        .unwrap();
    let epss = epss.finish().unwrap();
    let s = server.clone();
    std::thread::spawn(move || {
        for req in s.incoming_requests() {
            let cached = req
                .headers()
                .iter()
                .any(|h| h.field.equiv("If-None-Match") && h.value.as_str() == tag);
            let body = match req.url() {
                "/PyPI/all.zip" => zip.clone(),
                "/kev.json" => kev.clone(),
                "/epss.csv.gz" => epss.clone(),
                _ => {
                    let _ = req.respond(tiny_http::Response::empty(404));
                    continue;
                }
            };
            if cached {
                let _ = req.respond(tiny_http::Response::empty(304));
                continue;
            }
            let etag = tiny_http::Header::from_bytes("ETag", tag).unwrap();
            let _ = req.respond(tiny_http::Response::from_data(body).with_header(etag));
        }
    });
    (base, server)
}

fn opts(base: &str) -> UpdateOptions {
    UpdateOptions {
        ecosystems: vec!["PyPI".into()],
        osv_base_url: base.into(),
        kev_url: Some(format!("{base}/kev.json")),
        epss_url: Some(format!("{base}/epss.csv.gz")),
        ..UpdateOptions::default()
    }
}

fn fresh_store(dir: &Path) -> bulwark_vulndb::Metadata {
    let (base, server) = serve(None);
    let summary = update(dir, &opts(&base), &NoProgress).unwrap();
    assert!(summary.unchanged.is_empty());
    server.unblock();
    Store::open(dir).unwrap().metadata().unwrap()
}

#[test]
fn update_then_304() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db");
    let meta = fresh_store(&db);
    assert_eq!(meta.advisories, 21);
    assert_eq!(meta.kev, 9);
    assert_eq!(meta.epss, 1021);
    let osv = meta.sources.iter().find(|s| s.name == "osv:PyPI").unwrap();
    assert_eq!(osv.etag.as_deref(), Some("\"v1\""));
    assert!(osv.location.ends_with("/PyPI/all.zip"));

    let (base, _server) = serve(None);
    let summary = update(&db, &opts(&base), &NoProgress).unwrap();
    assert_eq!(summary.unchanged, vec!["osv:PyPI", "kev", "epss"]);
    let again = Store::open(&db).unwrap().metadata().unwrap();
    assert_eq!((again.advisories, again.kev, again.epss), (21, 9, 1021));
    assert_eq!(
        again
            .sources
            .iter()
            .find(|s| s.name == "osv:PyPI")
            .unwrap()
            .etag
            .as_deref(),
        Some("\"v1\"")
    );
}

#[test]
fn corrupt_zip_keeps_previous_store() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db");
    let before = fresh_store(&db);
    let (base, _server) = serve(Some(b"this is not a zip file at all".to_vec()));
    let mut o = opts(&base);
    o.kev_url = None;
    o.epss_url = None;
    let err = update(&db, &o, &NoProgress).unwrap_err();
    assert!(matches!(err, Error::Corrupt { .. }), "{err}");
    assert!(
        err.to_string().contains("previous database was kept"),
        "{err}"
    );
    let after = Store::open(&db).unwrap().metadata().unwrap();
    assert_eq!(after, before);
}

#[test]
fn dropped_connection_keeps_previous_store() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db");
    let before = fresh_store(&db);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut s = stream.unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\nContent-Type: application/zip\r\n\r\n");
            let _ = s.write_all(&[b'P'; 50_000]);
            let _ = s.flush();
            drop(s); // connection dropped mid-body
        }
    });
    let mut o = opts(&base);
    o.kev_url = None;
    o.epss_url = None;
    let err = update(&db, &o, &NoProgress).unwrap_err();
    assert!(matches!(err, Error::Download { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("BULWARK_DB_OSV_URL"), "{msg}");
    assert_eq!(Store::open(&db).unwrap().metadata().unwrap(), before);
}

#[test]
fn http_error_and_size_cap() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db");
    let (base, _server) = serve(None);
    let mut o = opts(&base);
    o.ecosystems = vec!["npm".into()]; // 404 on this server
    let err = update(&db, &o, &NoProgress).unwrap_err();
    assert!(err.to_string().contains("HTTP 404"), "{err}");
    assert!(Store::open(&db).is_err(), "no store was created");
    let mut o = opts(&base);
    o.max_download_bytes = 1000;
    let err = update(&db, &o, &NoProgress).unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err}");
}
